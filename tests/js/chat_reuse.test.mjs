// chat() keeps the model's state between turns and reads only the tokens new since the last chat(): on the
// SmolLM2-layout instruct checkpoint (hf/checkpoints.mjs, ChatML template), a conversation's later turns reuse
// exactly the tokens the model read before (the previous prompt and its reply but the last, unread, token) and reply
// as a second model that reads every prompt whole; also when the window slides. Anything that touched the model in
// between (generate(), fineTune(), an adapter change or choice), an edited message, a cancelled reply or
// reusePrompt: false make the next chat read its prompt whole — and still reply as a full read does.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { checkpoints } from './hf/checkpoints.mjs';
import { startHub } from './hf/hub_server.mjs';
import { TinyLM, collect, tinylmError } from './helpers.mjs';

let hub, made;

before(async () => {
  made = checkpoints();
  hub = await startHub({ 'test/smollm2-chat': made.folders['smollm2-chat'] });
});

after(async () => {
  await hub?.close();
  await TinyLM.shutdown();
});

const load = (options = {}) => TinyLM.load('hf:test/smollm2-chat', { hubHost: hub.host, ...options });
const USERS = ['Hello! How are you?', 'Tell me about whales.', 'And the sea?'];

// The ids a full read of the conversation samples, for `options` (chat()'s stops): to know what the worker kept.
async function sampledIds(lm, messages, options) {
  const ids = [];
  const steps = lm.generateSteps(await lm.chatPrompt(messages), { ...options, stop: ['<|im_end|>'], stopAtEos: true, alternatives: 0 });
  for await (const step of steps) if (step.token >= 0) ids.push(step.token);
  return ids;
}

const startsWith = (ids, prefix) => prefix.length < ids.length && prefix.every((id, i) => id === ids[i]);

// Three turns on `lm` beside `fresh` (every prompt read whole): equal replies, and what each turn reused.
async function converse(lm, fresh, options) {
  const messages = [];
  const turns = [];
  let held = [];  // the ids the model's state is after: the last prompt and every generated id but the last
  for (const user of USERS) {
    messages.push({ role: 'user', content: user });
    const prompt = Array.from(await lm.encode(await lm.chatPrompt(messages)));
    const reply = await collect(lm.chat(messages, options));
    const stats = lm.lastChatStats();
    assert.equal(reply, await collect(fresh.chat(messages, { ...options, reusePrompt: false })), `turn ${turns.length + 1}`);
    assert.equal(fresh.lastChatStats().promptTokensReused, 0);
    assert.equal(stats.promptTokens, prompt.length);
    // Kept when the new prompt starts with them (a random model's reply need not encode to the ids it sampled).
    const reusable = startsWith(prompt, held) ? held.length : 0;
    assert.equal(stats.promptTokensReused, reusable, `turn ${turns.length + 1} reuses what the model read before`);
    assert.equal(stats.promptTokensRead, prompt.length - stats.promptTokensReused);
    turns.push(stats);
    const ids = await sampledIds(fresh, messages, options);
    assert.equal(ids.length, stats.tokens);
    held = [...prompt, ...ids.slice(0, -1)];
    messages.push({ role: 'assistant', content: reply });
  }
  return { messages, turns };
}

test('turns 2 and 3 read only their new tokens and reply as a model reading the whole conversation', async () => {
  const [lm, fresh] = await Promise.all([load(), load()]);
  try {
    let reused = 0;
    for (const options of [{ temperature: 0, maxTokens: 12 }, { temperature: 1, seed: 3, maxTokens: 12 },
      { temperature: 1, seed: 8, maxTokens: 12 }]) {
      const { turns } = await converse(lm, fresh, options);
      reused += turns.filter((turn) => turn.promptTokensReused > 0).length;
      assert.equal(turns[0].promptTokensReused, 0, 'the first turn after other generation reads everything');
    }
    assert.ok(reused >= 4, `most later turns reuse the kept tokens (${reused} of 6)`);
  } finally {
    await Promise.all([lm.dispose(), fresh.dispose()]);
  }
});

test('reuse through a sliding window (maxContext 40, truncatePrompt) replies as a full read does', async () => {
  const [lm, fresh] = await Promise.all([load({ maxContext: 40 }), load({ maxContext: 40 })]);
  try {
    const { turns } = await converse(lm, fresh, { temperature: 1, seed: 5, maxTokens: 10, truncatePrompt: true });
    assert.ok(turns[2].promptTokens > 40, 'the conversation outgrows the window');
    assert.ok(turns.slice(1).some((turn) => turn.promptTokensReused > 0), 'a later turn reuses the slid state');
  } finally {
    await Promise.all([lm.dispose(), fresh.dispose()]);
  }
});

// A conversation whose second turn reuses: the state to disturb in the tests below.
async function reusingConversation(lm) {
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    const options = { temperature: 1, seed, maxTokens: 10 };
    const messages = [{ role: 'user', content: USERS[0] }];
    messages.push({ role: 'assistant', content: await collect(lm.chat(messages, options)) }, { role: 'user', content: USERS[1] });
    const reply = await collect(lm.chat(messages, options));
    if (lm.lastChatStats().promptTokensReused === 0) continue;
    messages.push({ role: 'assistant', content: reply }, { role: 'user', content: USERS[2] });
    return { messages, options };
  }
  assert.fail('no seed gave a reply that re-encodes to its sampled ids');
}

test('anything else on the model in between, an edited message or reusePrompt: false read the prompt whole', async () => {
  const [lm, fresh] = await Promise.all([load(), load()]);
  try {
    const expectFullRead = async (messages, options, what) => {
      const reply = await collect(lm.chat(messages, options));
      assert.equal(lm.lastChatStats().promptTokensReused, 0, what);
      assert.equal(reply, await collect(fresh.chat(messages, { ...options, reusePrompt: false })), what);
    };
    const disturbances = {
      'generate()': () => collect(lm.generate('Call me', { maxTokens: 3 })),
      'evaluate()': () => lm.evaluate('Some years ago, never mind how long precisely.'),
      'a session turn': async () => {
        const s = lm.session();
        await collect(s.generate('Call me', { maxTokens: 3 }));
        await s.dispose();
      },
    };
    for (const [what, disturb] of Object.entries(disturbances)) {
      const { messages, options } = await reusingConversation(lm);
      await disturb();
      await expectFullRead(messages, options, what);
    }
    const { messages, options } = await reusingConversation(lm);
    const edited = messages.map((message, i) => (i === 0 ? { ...message, content: 'Hi there!' } : message));
    await expectFullRead(edited, options, 'an edited first message');
    await collect(lm.chat(messages, options));  // now a state after this conversation again
    const next = [...messages, { role: 'assistant', content: 'Fine.' }, { role: 'user', content: 'Sure?' }];
    await expectFullRead(next, { ...options, reusePrompt: false }, 'reusePrompt: false');
    await assert.rejects(collect(lm.chat(messages, { reusePrompt: 'yes' })), tinylmError('INVALID_ARGUMENT', 'reusePrompt'));
    await assert.rejects(collect(lm.chat(messages, { reusePromt: false })), tinylmError('INVALID_ARGUMENT', "did you mean 'reusePrompt'"));
  } finally {
    await Promise.all([lm.dispose(), fresh.dispose()]);
  }
});

test('a LoRA fine-tune, and another adapter choice, make the next chat read the whole prompt', async () => {
  const [lm, fresh] = await Promise.all([load(), load()]);
  try {
    const text = 'User: hello there. Assistant: hello, how can I help you today? '.repeat(40);
    const lora = { rank: 2, alpha: 4, targets: ['q_proj', 'v_proj'] };
    let { messages, options } = await reusingConversation(lm);
    await lm.fineTune(text, { steps: 2, batchSize: 2, seqLen: 16, seed: 1, lora });
    const adapterBytes = await lm.exportAdapter();
    await fresh.loadAdapter(adapterBytes, { name: 'tuned' });
    await collect(lm.chat(messages, options));
    assert.equal(lm.lastChatStats().promptTokensReused, 0, 'after fineTune()');
    // The adapter is active on both: a later turn reuses, and replies as the adapted model reading everything.
    ({ messages, options } = await reusingConversation(lm));
    const reply = await collect(lm.chat(messages, options));
    assert.ok(lm.lastChatStats().promptTokensReused > 0);
    assert.equal(reply, await collect(fresh.chat(messages, { ...options, reusePrompt: false })));
    // adapter: null is another model: read whole, then kept under that choice.
    await collect(lm.chat(messages, { ...options, adapter: null }));
    assert.equal(lm.lastChatStats().promptTokensReused, 0, 'adapter: null after the active adapter');
    const bare = [...messages, { role: 'assistant', content: 'Fine.' }, { role: 'user', content: 'Sure?' }];
    const bareReply = await collect(lm.chat(bare, { ...options, adapter: null }));
    assert.equal(bareReply, await collect(fresh.chat(bare, { ...options, adapter: null, reusePrompt: false })));
    await lm.saveAdapter('mine');
    await collect(lm.chat(bare, { ...options, adapter: null }));
    assert.equal(lm.lastChatStats().promptTokensReused, 0, 'after an adapter operation');
  } finally {
    await Promise.all([lm.dispose(), fresh.dispose()]);
  }
});

test('a reply cancelled midway leaves a state the next chat handles: it replies as a full read does', async () => {
  const [lm, fresh] = await Promise.all([load(), load()]);
  try {
    const { messages, options } = await reusingConversation(lm);
    const long = { temperature: 1.5, seed: 2, maxTokens: 1500, stopAtEos: false };
    for await (const piece of lm.chat(messages, long)) if (piece.length > 0) break;  // stops the reply midway
    const cancelled = lm.lastChatStats() === null;  // unless the whole reply came before the cancel
    const reply = await collect(lm.chat(messages, options));
    if (cancelled) assert.equal(lm.lastChatStats().promptTokensReused, 0, 'the kept tokens run past this prompt');
    assert.equal(reply, await collect(fresh.chat(messages, { ...options, reusePrompt: false })));
    // Cancelled before it starts: the state stays as it was, and the next turn still reuses it.
    const next = [...messages, { role: 'assistant', content: reply }, { role: 'user', content: 'Sure?' }];
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(collect(lm.chat(next, { ...options, signal: controller.signal })), { name: 'AbortError' });
    const nextReply = await collect(lm.chat(next, options));
    assert.equal(nextReply, await collect(fresh.chat(next, { ...options, reusePrompt: false })));
  } finally {
    await Promise.all([lm.dispose(), fresh.dispose()]);
  }
});
