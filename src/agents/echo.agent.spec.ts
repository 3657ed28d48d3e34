import { describe, expect, it } from 'vitest';
import type { AgentEvent, AgentRunInput, ConversationMessage } from './agent.types.js';
import { ECHO_WORDS_PER_TURN, EchoAgent, splitWords } from './echo.agent.js';

function input(...messages: ConversationMessage[]): AgentRunInput {
  return {
    sessionKey: 's1',
    messages,
    tools: [],
    executeTool: () => Promise.reject(new Error('echo calls no tools')),
  };
}

async function collect(events: AsyncIterable<AgentEvent>): Promise<AgentEvent[]> {
  const all: AgentEvent[] = [];
  for await (const event of events) all.push(event);
  return all;
}

describe('EchoAgent', () => {
  it('streams the last user message word by word, then finishes with stop', async () => {
    const events = await collect(
      new EchoAgent().run(
        input(
          { role: 'user', content: 'first' },
          { role: 'assistant', content: 'first' },
          { role: 'user', content: 'hello brave  new\tworld' },
        ),
        new AbortController().signal,
      ),
    );
    expect(events).toEqual([
      { type: 'text-delta', delta: 'hello ' },
      { type: 'text-delta', delta: 'brave  ' },
      { type: 'text-delta', delta: 'new\t' },
      { type: 'text-delta', delta: 'world' },
      { type: 'finish', content: 'hello brave  new\tworld', finishReason: 'stop' },
    ]);
  });

  it.each(['  leading', 'trailing \n', ' a  b ', '', '   ', 'one'])(
    'deltas concatenate to the content exactly (%j)',
    (content) => {
      expect(splitWords(content).join('')).toBe(content);
    },
  );

  it('answers an empty conversation with an empty stop', async () => {
    const events = await collect(new EchoAgent().run(input(), new AbortController().signal));
    expect(events).toEqual([{ type: 'finish', content: '', finishReason: 'stop' }]);
  });

  it('is deterministic', async () => {
    const run = () =>
      collect(
        new EchoAgent().run(
          input({ role: 'user', content: 'same words' }),
          AbortSignal.timeout(5000),
        ),
      );
    expect(await run()).toEqual(await run());
  });

  it('finishes with cancelled and the text sent so far when aborted mid-stream', async () => {
    const controller = new AbortController();
    const seen: AgentEvent[] = [];
    for await (const event of new EchoAgent().run(
      input({ role: 'user', content: 'one two three four' }),
      controller.signal,
    )) {
      seen.push(event);
      if (seen.length === 2) controller.abort();
    }
    expect(seen).toEqual([
      { type: 'text-delta', delta: 'one ' },
      { type: 'text-delta', delta: 'two ' },
      { type: 'finish', content: 'one two ', finishReason: 'cancelled' },
    ]);
  });

  it('finishes with cancelled at once when the signal is already aborted', async () => {
    const events = await collect(
      new EchoAgent().run(input({ role: 'user', content: 'never sent' }), AbortSignal.abort()),
    );
    expect(events).toEqual([{ type: 'finish', content: '', finishReason: 'cancelled' }]);
  });

  it('streams a short answer without giving up the event loop', async () => {
    let loopTurned = false;
    setImmediate(() => (loopTurned = true));
    const content = 'word '.repeat(ECHO_WORDS_PER_TURN);
    const events = await collect(
      new EchoAgent().run(input({ role: 'user', content }), new AbortController().signal),
    );
    expect(loopTurned).toBe(false);
    expect(events.at(-1)).toEqual({ type: 'finish', content, finishReason: 'stop' });
  });

  it('gives up the event loop every so many words of a long answer, where an abort from I/O lands', async () => {
    const controller = new AbortController();
    // Fires at the first turn of the loop the agent gives up, as a cancel frame read then would.
    setImmediate(() => controller.abort());
    const content = 'word '.repeat(ECHO_WORDS_PER_TURN * 10);
    const events = await collect(
      new EchoAgent().run(input({ role: 'user', content }), controller.signal),
    );
    const deltas = events.filter((event) => event.type === 'text-delta');
    expect(deltas).toHaveLength(ECHO_WORDS_PER_TURN);
    expect(events.at(-1)).toEqual({
      type: 'finish',
      content: 'word '.repeat(ECHO_WORDS_PER_TURN),
      finishReason: 'cancelled',
    });
  });
});
