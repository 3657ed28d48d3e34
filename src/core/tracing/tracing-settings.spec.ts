import { describe, expect, it } from 'vitest';
import { describeEndpoint, readTracingSettings } from './tracing-settings.js';

describe('readTracingSettings', () => {
  it('is off without an OTLP endpoint, or when OTEL_SDK_DISABLED is "true"', () => {
    expect(readTracingSettings({})).toBeUndefined();
    expect(readTracingSettings({ OTEL_SERVICE_NAME: 'x' })).toBeUndefined();
    expect(
      readTracingSettings({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
        OTEL_SDK_DISABLED: ' TRUE ',
      }),
    ).toBeUndefined();
  });

  it('appends /v1/traces to the base endpoint and takes the traces endpoint as it is', () => {
    expect(readTracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318/' })).toEqual({
      url: 'http://c:4318/v1/traces',
      serviceName: 'openclaw-gateway',
    });
    expect(
      readTracingSettings({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://ignored:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://c/custom/path',
        OTEL_SERVICE_NAME: 'edge',
        OTEL_SDK_DISABLED: 'false',
      }),
    ).toEqual({ url: 'https://c/custom/path', serviceName: 'edge' });
  });

  it('names a protocol other than http/json, which the exporter does not speak', () => {
    const base = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' };
    expect(
      readTracingSettings({ ...base, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }),
    ).not.toHaveProperty('unsupportedProtocol');
    expect(
      readTracingSettings({
        ...base,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf',
      })?.unsupportedProtocol,
    ).toBe('http/protobuf');
  });

  it('refuses an endpoint that is not an http(s) URL, naming the variable', () => {
    expect(() => readTracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'localhost:4318' })).toThrow(
      /OTEL_EXPORTER_OTLP_ENDPOINT \(env\): must be an http\(s\) URL/,
    );
    expect(() => readTracingSettings({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'not a url' })).toThrow(
      /OTEL_EXPORTER_OTLP_TRACES_ENDPOINT/,
    );
  });

  it('logs an endpoint without user info or query', () => {
    expect(describeEndpoint('https://user:secret@c:4318/v1/traces?key=k')).toBe(
      'https://c:4318/v1/traces',
    );
  });
});
