import { ConfigValidationError } from '../config/config-validation.error.js';

/** What the standard OTEL_* variables ask of the gateway's tracing; undefined when it is off. */
export interface TracingSettings {
  /** Where spans are POSTed: the traces endpoint as given, or the base endpoint + /v1/traces. */
  url: string;
  serviceName: string;
  /** The protocol asked for, when it is not the http/json the exporter speaks (for a warning). */
  unsupportedProtocol?: string;
}

export const DEFAULT_SERVICE_NAME = 'openclaw-gateway';

/**
 * Reads the OpenTelemetry SDK's own variables (the OTEL_* names every SDK documents), so that
 * tracing is configured the way an operator configures any other service: on when an OTLP
 * endpoint is set and OTEL_SDK_DISABLED is not "true", off otherwise.
 */
export function readTracingSettings(env: NodeJS.ProcessEnv): TracingSettings | undefined {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return undefined;
  const url = tracesUrl(env);
  if (url === undefined) return undefined;
  const protocol = (
    env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL?.trim() ||
    env.OTEL_EXPORTER_OTLP_PROTOCOL?.trim() ||
    ''
  ).toLowerCase();
  return {
    url,
    serviceName: env.OTEL_SERVICE_NAME?.trim() || DEFAULT_SERVICE_NAME,
    ...(protocol === '' || protocol === 'http/json' ? {} : { unsupportedProtocol: protocol }),
  };
}

/** The signal-specific endpoint is used as it is; the base one gets the traces path appended. */
function tracesUrl(env: NodeJS.ProcessEnv): string | undefined {
  const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  if (traces) return checkedUrl('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', traces);
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (!base) return undefined;
  checkedUrl('OTEL_EXPORTER_OTLP_ENDPOINT', base);
  return `${base.replace(/\/+$/, '')}/v1/traces`;
}

/** A typo in the endpoint stops the boot, rather than every export failing later. */
function checkedUrl(name: string, value: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (url?.protocol !== 'http:' && url?.protocol !== 'https:') {
    throw new ConfigValidationError([`${name} (env): must be an http(s) URL, got "${value}"`]);
  }
  return value;
}

/** The endpoint as logged: no user info or query (where a collector's credentials may sit). */
export function describeEndpoint(value: string): string {
  const url = new URL(value);
  return `${url.origin}${url.pathname}`;
}
