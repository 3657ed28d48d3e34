import { Injectable } from '@nestjs/common';

/** An error as a front answers it on its own routes: its body and any headers it needs. */
export interface ShapedHttpError {
  body: unknown;
  headers?: Readonly<Record<string, string>>;
}

/** Turns the gateway's refusal (status and message) into a front's own error shape. */
export type HttpErrorShaper = (status: number, message: string) => ShapedHttpError;

/**
 * Error shapes by path prefix, for the refusals that never reach a front's own handlers and
 * filters: a body over the limit, malformed JSON, a wrong content type, an unknown path, a
 * draining instance. A front (the OpenAI-compatible one) registers its shape at boot; the HTTP
 * exception filter and the draining hook consult it. Nothing is run per request on other paths.
 */
@Injectable()
export class HttpErrorShapes {
  private readonly shapers: Array<{ prefix: string; shape: HttpErrorShaper }> = [];

  register(prefix: string, shape: HttpErrorShaper): void {
    this.shapers.push({ prefix, shape });
  }

  /** The shaper for a request URL, if a front claimed its path. */
  shaperFor(url: string): HttpErrorShaper | undefined {
    for (const { prefix, shape } of this.shapers) {
      if (url.startsWith(prefix)) return shape;
    }
    return undefined;
  }
}
