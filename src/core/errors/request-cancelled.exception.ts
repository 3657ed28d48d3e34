import { GatewayErrorCode } from './gateway-error-code.js';
import { GatewayException } from './gateway.exception.js';

/** The client cancelled the call (`$/cancelRequest`): answered -32800, as LSP does. */
export class RequestCancelledException extends GatewayException {
  constructor() {
    super(GatewayErrorCode.REQUEST_CANCELLED, 'Request cancelled');
  }
}
