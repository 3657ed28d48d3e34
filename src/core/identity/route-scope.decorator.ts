import { SetMetadata } from '@nestjs/common';

export const ROUTE_SCOPE_METADATA = 'openclaw:route-scope';

/**
 * A plain HTTP route that needs a token carrying this scope (or `admin`), else 403. JSON-RPC
 * methods name their scope in @RpcMethod instead.
 */
export const RequireScope = (scope: string): MethodDecorator & ClassDecorator =>
  SetMetadata(ROUTE_SCOPE_METADATA, scope);
