import {
  ForbiddenException,
  HttpException,
  HttpStatus,
  Inject,
  Injectable,
  Optional,
  Logger,
  UnauthorizedException,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { SecurityAuditLog } from '../audit/security-audit.log.js';
import { GatewayConfig } from '../config/gateway-config.js';
import { clientIp } from '../rpc/client-ip.js';
import { getRpcCallContext, REQUEST_CALLER, type RpcCallContext } from '../rpc/rpc-call-context.js';
import type { RpcCallCheck, RpcMethodDescriptor, RpcPreparedGuard } from '../rpc/rpc-guard.js';
import { RpcErrorCode } from '../rpc/rpc-error-code.js';
import { RpcMethodRegistry } from '../rpc/rpc-method.registry.js';
import { RpcController } from '../rpc/rpc.controller.js';
import { RpcException } from '../rpc/rpc.exception.js';
import { WsCloseCode } from '../ws/ws-close-code.js';
import { AccessTokenVerifier } from './access-token.verifier.js';
import {
  AUTH_FAILURE_LIMITER,
  type AuthFailureLimiter,
} from '../rate-limit/auth-failure-limiter.js';
import { AUTH_MODULE_OPTIONS, type AuthModuleOptions } from './auth-module.options.js';
import { bearerFromAuthorization } from './bearer-token.js';
import { ADMIN_SCOPE, hasScope, type Caller } from '../identity/caller.js';
import { bearerChallenge, InvalidTokenError } from './invalid-token.error.js';
import { IS_PUBLIC_METADATA } from '../identity/public.decorator.js';
import { ROUTE_SCOPE_METADATA } from '../identity/route-scope.decorator.js';

type Headers = Record<string, string | string[] | undefined>;

/**
 * Authentication and scope check for everything the gateway serves: each JSON-RPC call (every
 * batch element, over HTTP and WS), POST /rpc as a whole, and plain HTTP routes. `@Public()` is
 * the only way past it.
 */
@Injectable()
export class JwtAuthGuard implements RpcPreparedGuard {
  private readonly logger = new Logger('Auth');
  /** One verification per HTTP request, however many calls its batch holds. */
  private readonly verified = new WeakMap<Headers, Promise<Caller>>();
  private readonly routeScopes = new WeakMap<object, string | undefined>();

  constructor(
    private readonly reflector: Reflector,
    private readonly registry: RpcMethodRegistry,
    private readonly verifier: AccessTokenVerifier,
    private readonly config: GatewayConfig,
    @Optional() @Inject(AUTH_MODULE_OPTIONS) private readonly options: AuthModuleOptions = {},
    @Optional()
    @Inject(AUTH_FAILURE_LIMITER)
    private readonly failures?: AuthFailureLimiter,
    @Optional() private readonly audit?: SecurityAuditLog,
  ) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const call = getRpcCallContext(context);
    if (call) {
      // Reached only through a generic context (a host's own pipeline); the dispatcher's plans
      // call prepareRpcCheck's check instead.
      if (this.registry.get(call.method.name)?.isPublic) return true;
      const checked = this.checkCall(call);
      return checked ? checked.then(() => true) : true;
    }
    if (context.getType() === 'http') return this.authorizeHttp(context);
    return this.isPublicRoute(context);
  }

  /** Public methods have nothing to check; the others need a caller with the method's scope. */
  prepareRpcCheck(method: RpcMethodDescriptor): RpcCallCheck | null {
    return method.isPublic ? null : (call) => this.checkCall(call);
  }

  /**
   * One JSON-RPC call: authenticate, check the method's scope, hand the caller to the handler.
   * Synchronous when the transport already knows the caller (a WebSocket's upgrade, the HTTP
   * request's own check), which is every call but those of a host that authenticates calls itself.
   */
  private checkCall(call: RpcCallContext): void | Promise<void> {
    if (call.caller) return this.authorize(call, call.caller);
    return this.callerOf(call).then((caller) => this.authorize(call, caller));
  }

  private authorize(call: RpcCallContext, caller: Caller): void {
    if (
      caller.expiresAt !== undefined &&
      caller.expiresAt + this.config.auth.jwt.clockTolerance <= Date.now()
    ) {
      // A WebSocket outlives its token: refuse the call, then close once the reply is out.
      call.connection?.closeAfterReply?.(WsCloseCode.Unauthenticated, 'token expired');
      throw new RpcException(RpcErrorCode.Unauthenticated, 'Token expired');
    }
    const requiredScope = call.method.scope;
    if (!requiredScope || !hasScope(caller, requiredScope)) {
      if (requiredScope === ADMIN_SCOPE) {
        this.audit?.record({
          action: 'rpc.admin_call',
          outcome: 'denied',
          subject: caller.subject,
          target: call.method.name,
          ip: call.ip,
        });
      }
      throw new RpcException(RpcErrorCode.Forbidden, 'Forbidden', { requiredScope });
    }
    call.caller = caller;
  }

  private async callerOf(ctx: RpcCallContext): Promise<Caller> {
    if (ctx.transport === 'ws') {
      // The upgrade authenticates WebSockets; a connection without a caller got in unchecked.
      throw new RpcException(RpcErrorCode.Unauthenticated, 'Missing bearer token');
    }
    try {
      return await this.verifyHeaders(ctx.headers);
    } catch (err) {
      if (err instanceof InvalidTokenError) {
        throw new RpcException(RpcErrorCode.Unauthenticated, err.message);
      }
      throw err;
    }
  }

  /**
   * HTTP routes. POST /rpc is checked here as a whole, before the dispatcher: a body that calls
   * anything but @Public methods needs a valid token, else 401 and nothing runs. A route marked
   * @RequireScope needs that scope too, else 403.
   */
  private authorizeHttp(context: ExecutionContext): boolean | Promise<boolean> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const isPublic =
      context.getClass() === RpcController
        ? this.onlyPublicCalls(request.body)
        : this.isPublicRoute(context);
    if (isPublic) return true;
    // A token seen before, whose client is known active: no promise (the common case).
    const cached = this.options.authenticate ? undefined : this.cachedCaller(request.headers);
    if (cached) return this.admit(context, request, cached);
    return this.authenticateHttp(context, request);
  }

  private async authenticateHttp(
    context: ExecutionContext,
    request: FastifyRequest,
  ): Promise<boolean> {
    let caller = await this.hostCaller(request);
    if (!caller) {
      try {
        caller = await this.verifyHeaders(request.headers);
      } catch (err) {
        if (!(err instanceof InvalidTokenError)) throw err;
        return this.refuseToken(context, request, err);
      }
    }
    return this.admit(context, request, caller);
  }

  /** A route marked @RequireScope needs that scope too, else 403. */
  private admit(context: ExecutionContext, request: FastifyRequest, caller: Caller): boolean {
    const requiredScope = this.routeScope(context);
    if (requiredScope !== undefined && !hasScope(caller, requiredScope)) {
      throw new ForbiddenException({ statusCode: 403, message: 'Forbidden', requiredScope });
    }
    // Every call of this request starts authenticated: no second look-up per call.
    (request as FastifyRequest & { [REQUEST_CALLER]?: Caller })[REQUEST_CALLER] = caller;
    return true;
  }

  /** A route's @RequireScope, read once per handler: metadata never changes after boot. */
  private routeScope(context: ExecutionContext): string | undefined {
    const handler = context.getHandler();
    if (this.routeScopes.has(handler)) return this.routeScopes.get(handler);
    const scope = this.reflector.getAllAndOverride<string | undefined>(ROUTE_SCOPE_METADATA, [
      handler,
      context.getClass(),
    ]);
    this.routeScopes.set(handler, scope);
    return scope;
  }

  private cachedCaller(headers: Headers): Caller | undefined {
    const credential = bearerFromAuthorization(headers.authorization);
    return credential.kind === 'token' ? this.verifier.cachedCaller(credential.token) : undefined;
  }

  /**
   * 401 with a Bearer challenge; or 429 once the client's address is over its budget of failed
   * authentications. Only failures are counted, so a good token from that address still passes.
   */
  private async refuseToken(
    context: ExecutionContext,
    request: FastifyRequest,
    err: InvalidTokenError,
  ): Promise<never> {
    this.logger.debug({ reason: err.detail ?? err.reason, url: request.url }, 'token refused');
    const ip = clientIp(request.ip, request.headers, this.config.gateway.trustedProxies);
    this.audit?.record({
      action: 'auth.failed',
      outcome: 'denied',
      ip,
      detail: { reason: err.reason, transport: 'http' },
    });
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    const verdict = await this.failures?.recordFailure({
      remoteAddress: request.ip,
      headers: request.headers,
    });
    if (verdict?.refuse) {
      void reply.header('Retry-After', String(Math.ceil(verdict.retryAfterMs / 1000)));
      throw new HttpException(
        'Too many failed authentications, retry later',
        HttpStatus.TOO_MANY_REQUESTS,
      );
    }
    void reply.header('WWW-Authenticate', bearerChallenge(err));
    throw new UnauthorizedException(err.message);
  }

  /** The host application's caller, when it authenticates this request; cached like a token. */
  private async hostCaller(request: FastifyRequest): Promise<Caller | undefined> {
    if (!this.options.authenticate) return undefined;
    const caller = await this.options.authenticate({
      headers: request.headers,
      user: (request as FastifyRequest & { user?: unknown }).user,
    });
    if (caller) this.verified.set(request.headers, Promise.resolve(caller));
    return caller;
  }

  private verifyHeaders(headers: Headers): Promise<Caller> {
    let pending = this.verified.get(headers);
    if (!pending) {
      const credential = bearerFromAuthorization(headers.authorization);
      pending =
        credential.kind === 'token'
          ? this.verifier.verify(credential.token)
          : Promise.reject(
              credential.kind === 'none'
                ? InvalidTokenError.missing()
                : InvalidTokenError.invalid(credential.reason),
            );
      this.verified.set(headers, pending);
    }
    return pending;
  }

  private onlyPublicCalls(body: unknown): boolean {
    const calls = Array.isArray(body) ? body : [body];
    return (
      calls.length > 0 &&
      calls.every(
        (call) =>
          typeof call === 'object' &&
          call !== null &&
          typeof (call as { method?: unknown }).method === 'string' &&
          this.registry.get((call as { method: string }).method)?.isPublic === true,
      )
    );
  }

  private isPublicRoute(context: ExecutionContext): boolean {
    return (
      this.reflector.getAllAndOverride<boolean | undefined>(IS_PUBLIC_METADATA, [
        context.getHandler(),
        context.getClass(),
      ]) === true
    );
  }
}
