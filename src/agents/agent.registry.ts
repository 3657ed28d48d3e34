import { Injectable, Logger, Optional, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { GatewayConfig } from '../core/config/gateway-config.js';
import { GatewayException } from '../core/errors/gateway.exception.js';
import { TracingService } from '../core/tracing/tracing.service.js';
import { parseAgentConfigs } from './agent-config.js';
import { GatewayAgent } from './agent.decorator.js';
import { AgentFailedException, AgentNotFoundException } from './agent.exception.js';
import type { Agent, AgentEvent, AgentInfo, AgentRunInput, AgentStatus } from './agent.types.js';
import { ECHO_AGENT_ID, EchoAgent } from './echo.agent.js';
import { LinkedAbortController, WORK_FINISHED } from '../core/abort/linked-abort.controller.js';

interface AgentEntry {
  agent: Agent;
  activeRuns: number;
  totalRuns: number;
  lastError?: string;
  lastRunAt?: string;
  /** Set when the latest finished run reported a retryable error (its provider is down). */
  unavailable: boolean;
}

/**
 * Every agent the gateway can run, with its live status: the built-in echo agent, agents from
 * `config.agents`, and `@GatewayAgent()` providers found at boot. Runs go through `run`, which
 * keeps the counters right however the run ends.
 */
@Injectable()
export class AgentRegistry implements OnModuleInit {
  private described?: readonly AgentInfo[];
  /** The agent of a session created without an agentId. */
  readonly defaultAgentId = ECHO_AGENT_ID;

  private readonly logger = new Logger(AgentRegistry.name);
  private readonly agents = new Map<string, AgentEntry>();

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly config: GatewayConfig,
    @Optional() private readonly tracing?: TracingService,
  ) {}

  async onModuleInit(): Promise<void> {
    this.register(new EchoAgent());
    for (const agent of await this.configuredAgents()) this.register(agent);
    for (const wrapper of this.discovery.getProviders({ metadataKey: GatewayAgent.KEY })) {
      const instance: unknown = wrapper.instance;
      if (!isAgent(instance)) {
        throw new Error(
          `@GatewayAgent() provider ${String(wrapper.name)} does not implement Agent (id, name, description, provider, run)`,
        );
      }
      this.register(instance);
    }
    this.logger.log(`${this.agents.size} agents registered`);
  }

  /** Adds an agent; a duplicate id is refused. */
  register(agent: Agent): void {
    if (this.agents.has(agent.id)) throw new Error(`Duplicate agent id "${agent.id}"`);
    this.agents.set(agent.id, { agent, activeRuns: 0, totalRuns: 0, unavailable: false });
    this.described = undefined;
  }

  has(id: string): boolean {
    return this.agents.has(id);
  }

  /** Throws AgentNotFoundException. */
  get(id: string): Agent {
    return this.entry(id).agent;
  }

  /**
   * What agent.list answers: the same frozen array until an agent is registered, since it is
   * asked on every call of the cheapest method and changes only at boot.
   */
  list(): readonly AgentInfo[] {
    return (this.described ??= Object.freeze(
      [...this.agents.values()].map(({ agent }) => Object.freeze(describeAgent(agent))),
    ));
  }

  /** Throws AgentNotFoundException. */
  status(id: string): AgentStatus {
    const entry = this.entry(id);
    const status: AgentStatus = {
      agentId: id,
      state: entry.activeRuns > 0 ? 'busy' : entry.unavailable ? 'unavailable' : 'idle',
      activeRuns: entry.activeRuns,
      totalRuns: entry.totalRuns,
    };
    if (entry.lastError !== undefined) status.lastError = entry.lastError;
    if (entry.lastRunAt !== undefined) status.lastRunAt = entry.lastRunAt;
    return status;
  }

  /**
   * Runs an agent (throws AgentNotFoundException at once). The run counts from the first `next()`
   * until it ends, fails or the consumer stops early. A throw becomes AgentFailedException (the
   * agent's own message goes to the log only); a stream that ends without `finish` or `error` is
   * a failure too; an abort that makes the agent throw ends as `finish` with `cancelled`.
   *
   * The agent's signal is aborted when the run ends or the consumer stops early, so that work it
   * started is cancelled. Given a signal, the run follows it with a controller of its own; given
   * the caller's controller (one made for this run only), it uses that one and aborts it itself.
   */
  run(
    id: string,
    input: AgentRunInput,
    stop: AbortSignal | AbortController,
  ): AsyncGenerator<AgentEvent> {
    return this.track(this.entry(id), input, stop);
  }

  /**
   * Agents declared in `config.agents`: LLMs through the AI SDK. Invalid entries stop boot. The AI
   * SDK and each provider's package are imported only when an agent uses them (they weigh more
   * than the rest of a gateway that does not).
   */
  private async configuredAgents(): Promise<Agent[]> {
    const configs = parseAgentConfigs(this.config.agents);
    if (configs.length === 0) return [];
    const { LlmAgent } = await import('./llm.agent.js');
    const agents = configs.map((config) => {
      if (config.apiKeyEnv !== undefined && !ownEnv(config.apiKeyEnv)) {
        this.logger.warn(
          `Agent "${config.id}": environment variable ${config.apiKeyEnv} is not set; its provider will refuse requests`,
        );
      } else if (config.apiKeyEnv === undefined && config.provider !== 'openai-compatible') {
        this.logger.warn(`Agent "${config.id}": no apiKeyEnv, so no API key is sent`);
      }
      return LlmAgent.create(config, undefined, this.tracing?.tracer);
    });
    return Promise.all(agents);
  }

  private entry(id: string): AgentEntry {
    const entry = this.agents.get(id);
    if (!entry) throw new AgentNotFoundException(id);
    return entry;
  }

  private async *track(
    entry: AgentEntry,
    input: AgentRunInput,
    stop: AbortSignal | AbortController,
  ): AsyncGenerator<AgentEvent> {
    const { agent } = entry;
    // A turn hands its own controller: one AbortController (and its link) less per turn.
    const linked = stop instanceof AbortController ? undefined : new LinkedAbortController(stop);
    const own = linked ?? (stop as AbortController);
    const runSignal = own.signal;
    entry.activeRuns++;
    entry.totalRuns++;
    entry.lastRunAt = new Date().toISOString();
    let text = '';
    let terminal = false;
    try {
      for await (const event of agent.run(input, runSignal)) {
        if (terminal) continue;
        if (event.type === 'text-delta') text += event.delta;
        if (event.type === 'finish' || event.type === 'error') {
          terminal = true;
          this.settle(entry, event);
        }
        yield event;
      }
      if (!terminal && runSignal.aborted) {
        yield { type: 'finish', content: text, finishReason: 'cancelled' };
      } else if (!terminal) {
        throw new AgentFailedException(
          agent.id,
          `Agent "${agent.id}" ended without an answer`,
          false,
        );
      }
    } catch (error) {
      if (terminal) throw error;
      if (runSignal.aborted && !(error instanceof GatewayException)) {
        entry.unavailable = false;
        yield { type: 'finish', content: text, finishReason: 'cancelled' };
        return;
      }
      const failure =
        error instanceof GatewayException
          ? error
          : new AgentFailedException(agent.id, `Agent "${agent.id}" failed`, false);
      if (!(error instanceof GatewayException)) {
        this.logger.error(
          `Agent "${agent.id}" threw`,
          error instanceof Error ? error.stack : String(error),
        );
      }
      entry.lastError = failure.message;
      throw failure;
    } finally {
      entry.activeRuns--;
      linked?.dispose();
      own.abort(WORK_FINISHED);
    }
  }

  private settle(entry: AgentEntry, event: AgentEvent): void {
    if (event.type === 'error') {
      entry.lastError = event.message;
      entry.unavailable = event.retryable;
    } else {
      entry.unavailable = false;
    }
  }
}

/** An environment variable's own value: never something found on the prototype. */
function ownEnv(name: string): string | undefined {
  return Object.hasOwn(process.env, name) ? process.env[name] : undefined;
}

function describeAgent(agent: Agent): AgentInfo {
  const info: AgentInfo = {
    id: agent.id,
    name: agent.name,
    description: agent.description,
    provider: agent.provider,
  };
  if (agent.model !== undefined) info.model = agent.model;
  return info;
}

function isAgent(value: unknown): value is Agent {
  if (typeof value !== 'object' || value === null) return false;
  const agent = value as Partial<Agent>;
  return (
    typeof agent.id === 'string' &&
    typeof agent.name === 'string' &&
    typeof agent.description === 'string' &&
    typeof agent.provider === 'string' &&
    typeof agent.run === 'function'
  );
}
