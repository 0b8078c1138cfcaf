// lm.chat(): a conversation rendered into one prompt by the checkpoint's own chat template (tokenizer_config.json's
// chat_template, Jinja) with add_generation_prompt, as transformers' apply_chat_template renders it, so the model
// sees exactly the turn markup it was trained on (SmolLM2: ChatML's <|im_start|>role\n…<|im_end|>). The template
// engine is @huggingface/jinja, imported on the first chat() only, as this module is (index.ts): apps that never chat
// never load either.
//
// Each turn reads only its new tokens (worker_chat.ts): the worker keeps the model's state after a chat(), and when
// the next chat's rendered prompt starts with the tokens that state holds, it feeds only the rest. The reply is the
// one a full read gives; lm.lastChatStats() says how many prompt tokens were reused and read. reusePrompt: false
// reads the whole prompt every time.
import { TinyLMError } from './errors.js';
import { checkOptionNames, type GenerateOptions } from './options.js';
import type { CheckpointInfo } from './protocol.js';

export interface ChatMessage {
  role: string;     // 'system' | 'user' | 'assistant' (whatever roles the template knows)
  content: string;
}

type TemplateClass = new (template: string) => { render(context: Record<string, unknown>): string };
let templateClass: Promise<TemplateClass> | undefined;

function loadTemplateClass(): Promise<TemplateClass> {
  templateClass ??= import('@huggingface/jinja').then((module) => module.Template as unknown as TemplateClass);
  templateClass.catch(() => (templateClass = undefined));
  return templateClass;
}

export function checkMessages(messages: unknown): void {
  if (!Array.isArray(messages) || messages.length === 0) {
    throw new TinyLMError('INVALID_ARGUMENT', "chat() needs a non-empty array of messages: [{ role: 'user', content: 'Hello' }]");
  }
  messages.forEach((message: unknown, index) => {
    const { role, content } = (message ?? {}) as Partial<ChatMessage>;
    if (typeof role !== 'string' || role.length === 0 || typeof content !== 'string') {
      throw new TinyLMError('INVALID_ARGUMENT', `chat(): messages[${index}] must be { role: string, content: string }, ` +
        `got ${JSON.stringify(message)}`);
    }
  });
}

// The prompt the model continues: the template rendered over the messages, ending where the assistant's reply begins.
export async function renderChatPrompt(source: CheckpointInfo | undefined, messages: ChatMessage[]): Promise<string> {
  if (!source?.chatTemplate) {
    throw new TinyLMError('INVALID_ARGUMENT', 'this model has no chat template (tokenizer_config.json\'s chat_template): ' +
      'chat() needs an instruct checkpoint such as hf:HuggingFaceTB/SmolLM2-135M-Instruct; use generate() for plain text');
  }
  const Template = await loadTemplateClass();
  try {
    return new Template(source.chatTemplate).render({
      messages: messages.map(({ role, content }) => ({ role, content })),
      add_generation_prompt: true,
      bos_token: source.bosToken,
      eos_token: source.eosToken,
    });
  } catch (error) {
    throw new TinyLMError('INVALID_ARGUMENT', `the model's chat template failed on these messages: ${(error as Error).message}`);
  }
}

export interface ChatOptions extends GenerateOptions {
  reusePrompt?: boolean;  // default true: keep the model's state between chats and read only new tokens
}

// chat()'s options as generate() takes them (the end-of-turn tokens added to `stop`, <eos> ending the reply unless
// told otherwise), and whether to reuse the kept state.
export function chatGenerateOptions(options: ChatOptions, source: CheckpointInfo | undefined): {
  generateOptions: GenerateOptions;
  reusePrompt: boolean;
} {
  checkOptionNames('chat', options, 'chat()');
  const { reusePrompt = true, ...generateOptions } = options ?? {};
  if (typeof reusePrompt !== 'boolean') {
    throw new TinyLMError('INVALID_ARGUMENT', `chat(): option reusePrompt must be true or false, got ${String(reusePrompt)}`);
  }
  const stop = generateOptions.stop === undefined ? [] : Array.isArray(generateOptions.stop) ? generateOptions.stop : [generateOptions.stop];
  const stopAtEos = generateOptions.stopAtEos ?? true;
  return { generateOptions: { ...generateOptions, stop: [...(source?.endTokens ?? []), ...stop], stopAtEos }, reusePrompt };
}
