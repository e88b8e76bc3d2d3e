// Drives a running Flywheel server with the official `openai` npm client, unchanged, and prints one JSON object
// with what it saw. Exits non-zero, with the reason on stderr, when the client throws or a reply has the wrong shape.
// usage: node openai-client-check.mjs BASE_URL MODEL
import OpenAI from "openai";

const [baseURL, model] = process.argv.slice(2);
if (!baseURL || !model) {
  console.error("usage: node openai-client-check.mjs BASE_URL MODEL");
  process.exit(2);
}

const client = new OpenAI({ baseURL, apiKey: "unused", maxRetries: 0, timeout: 60_000 });

function check(condition, message) {
  if (!condition) throw new Error(message);
}

const out = {};

const models = await client.models.list();
out.models = models.data.map((m) => m.id);

const messages = [{ role: "user", content: "Once upon a time" }];
const chat = await client.chat.completions.create({ model, messages, temperature: 0, max_tokens: 24 });
check(chat.object === "chat.completion", `chat object is ${chat.object}`);
check(chat.choices.length === 1 && chat.choices[0].message.role === "assistant", "chat has no assistant choice");
out.chat = {
  id: chat.id,
  text: chat.choices[0].message.content,
  finishReason: chat.choices[0].finish_reason,
  promptTokens: chat.usage.prompt_tokens,
  completionTokens: chat.usage.completion_tokens,
};

const stream = await client.chat.completions.create({
  model, messages, temperature: 0, max_tokens: 24, stream: true, stream_options: { include_usage: true },
});
let streamed = "";
let streamFinish = null;
let streamUsage = null;
let chunks = 0;
const streamIds = new Set();
for await (const chunk of stream) {
  chunks++;
  streamIds.add(chunk.id);
  check(chunk.object === "chat.completion.chunk", `chunk object is ${chunk.object}`);
  for (const choice of chunk.choices) {
    streamed += choice.delta?.content ?? "";
    streamFinish = choice.finish_reason ?? streamFinish;
  }
  if (chunk.usage) streamUsage = chunk.usage;
}
out.stream = {
  text: streamed,
  finishReason: streamFinish,
  chunks,
  ids: streamIds.size,
  completionTokens: streamUsage?.completion_tokens ?? null,
};

const completion = await client.completions.create({ model, prompt: "The little dog", temperature: 0, max_tokens: 12 });
out.completion = { text: completion.choices[0].text, finishReason: completion.choices[0].finish_reason };

// The client asks for base64 and decodes it to floats when no encoding_format is given.
const embeddings = await client.embeddings.create({ model, input: ["Lily went to the park.", "Tom had a red ball."] });
out.embeddings = embeddings.data.map((d) => ({
  index: d.index,
  length: d.embedding.length,
  norm: Math.sqrt(d.embedding.reduce((s, x) => s + x * x, 0)),
}));

try {
  await client.chat.completions.create({ model: "no-such-model", messages });
  out.unknownModel = { status: 200 };
} catch (e) {
  check(e instanceof OpenAI.APIError, `unknown model threw ${e}`);
  out.unknownModel = { status: e.status, code: e.code, notFoundError: e instanceof OpenAI.NotFoundError };
}

console.log(JSON.stringify(out));
