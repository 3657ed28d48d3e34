/** Where TracingModule reads the OTEL_* variables: the gateway's env (process.env by default). */
export interface TracingModuleOptions {
  env: NodeJS.ProcessEnv;
}

export const TRACING_MODULE_OPTIONS = Symbol('openclaw:tracing-module-options');
