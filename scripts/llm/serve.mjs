// An OpenAI-compatible chat-completions server for a local GGUF model on the CPU, over npm's
// node-llama-cpp (prebuilt llama.cpp; nothing compiled). It is what `.ci/run` and `scripts/llm/setup.sh`
// use to give the shopping assistant a real language model to test against; borderless itself only speaks
// HTTP to it (any OpenAI-compatible server does: llama.cpp's llama-server, vLLM, Ollama, OpenAI).
//
//   MODEL_PATH=…/model.gguf PORT=18500 node scripts/llm/serve.mjs
//
// Routes: GET /health, GET /v1/models, POST /v1/chat/completions ({messages, max_tokens?, temperature?,
// seed?, stop?, response_format?: {type: "json_schema", json_schema: {schema}} | {type: "json_object"}}).
// A JSON schema is enforced while the model writes (a grammar), so the answer always parses. One request is
// answered at a time (one context); the others wait in order. Bodies over 64 KiB, answers over MAX_TOKENS
// tokens and malformed requests are refused with a 400 that says why.
import http from "node:http";
import path from "node:path";
import {getLlama, LlamaChatSession} from "node-llama-cpp";

const MODEL = process.env.MODEL_PATH;
if (!MODEL) {
  console.error("MODEL_PATH is not set: the path of a .gguf model (scripts/llm/setup.sh fetches one)");
  process.exit(2);
}
const PORT = +(process.env.PORT || 18500), HOST = process.env.HOST || "127.0.0.1";
const THREADS = +(process.env.THREADS || 2), CTX = +(process.env.CTX || 4096);
const MODEL_ID = process.env.MODEL_ID || path.basename(MODEL, ".gguf");
const MAX_BODY = 64 * 1024, MAX_TOKENS = 512;

const llama = await getLlama({gpu: false, build: "never"});
const model = await llama.loadModel({modelPath: MODEL});
const context = await model.createContext({contextSize: CTX, threads: THREADS, sequences: 1});
const sequence = context.getSequence();
const grammars = new Map();        // schema (as JSON) → grammar, at most 64 kept
let queue = Promise.resolve();     // one request at a time
let served = 0;

class BadRequest extends Error {}

function text(content) {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) return content.map((p) => (typeof p?.text === "string" ? p.text : "")).join("");
  throw new BadRequest("a message's `content` is a string or a list of text parts");
}

async function grammarFor(format) {
  if (format == null || format.type === "text") return undefined;
  let schema;
  if (format.type === "json_object") schema = {type: "object"};
  else if (format.type === "json_schema" && typeof format.json_schema?.schema === "object") schema = format.json_schema.schema;
  else throw new BadRequest("`response_format` is {type: text | json_object | json_schema, json_schema: {schema}}");
  const key = JSON.stringify(schema);
  if (!grammars.has(key)) {
    if (grammars.size >= 64) grammars.delete(grammars.keys().next().value);
    try {
      grammars.set(key, await llama.createGrammarForJsonSchema(schema));
    } catch (e) {
      throw new BadRequest(`the JSON schema cannot be enforced: ${e?.message || e}`);
    }
  }
  return grammars.get(key);
}

async function complete(body) {
  const msgs = body.messages;
  if (!Array.isArray(msgs) || msgs.length === 0 || msgs.length > 64) throw new BadRequest("`messages` is a list of 1–64 messages");
  const last = msgs[msgs.length - 1];
  if (last?.role !== "user") throw new BadRequest("the last message's role is `user`");
  const history = [];
  for (const m of msgs.slice(0, -1)) {
    const t = text(m?.content);
    if (m.role === "system" || m.role === "developer") history.push({type: "system", text: t});
    else if (m.role === "assistant") history.push({type: "model", response: [t]});
    else if (m.role === "user") history.push({type: "user", text: t});
    else throw new BadRequest(`unknown role \`${m?.role}\``);
  }
  const maxTokens = body.max_tokens ?? body.max_completion_tokens ?? 256;
  if (!Number.isInteger(maxTokens) || maxTokens < 1 || maxTokens > MAX_TOKENS) throw new BadRequest(`\`max_tokens\` is 1–${MAX_TOKENS}`);
  const grammar = await grammarFor(body.response_format);
  const session = new LlamaChatSession({contextSequence: sequence, autoDisposeSequence: false});
  try {
    session.setChatHistory(history);
    const started = Date.now();
    const meta = await session.promptWithMeta(text(last.content), {
      maxTokens, grammar,
      temperature: body.temperature ?? 0, topP: body.top_p, seed: body.seed ?? 0,
      customStopTriggers: body.stop ? [].concat(body.stop) : undefined,
    });
    const out = meta.responseText;
    served += 1;
    console.log(`answered in ${Date.now() - started} ms (${out.length} chars, stop: ${meta.stopReason})`);
    return {text: out, finish: meta.stopReason === "maxTokens" ? "length" : "stop"};
  } finally {
    session.dispose();
  }
}

http.createServer(async (req, res) => {
  const json = (code, obj) => {
    res.writeHead(code, {"content-type": "application/json"});
    res.end(JSON.stringify(obj));
  };
  if (req.method === "GET" && req.url === "/health") return json(200, {status: "ok", model: MODEL_ID, served});
  if (req.method === "GET" && req.url === "/v1/models") return json(200, {object: "list", data: [{id: MODEL_ID, object: "model", owned_by: "local"}]});
  if (req.method !== "POST" || req.url !== "/v1/chat/completions") return json(404, {error: {message: "not found: GET /health, GET /v1/models, POST /v1/chat/completions"}});
  let raw = "";
  for await (const chunk of req) {
    raw += chunk;
    if (raw.length > MAX_BODY) return json(413, {error: {message: `a request is at most ${MAX_BODY} bytes`}});
  }
  let body;
  try {
    body = JSON.parse(raw);
  } catch {
    return json(400, {error: {message: "the body is not JSON"}});
  }
  if (body?.stream) return json(400, {error: {message: "streaming is not served here; send stream: false"}});
  const job = queue.then(async () => {
    const r = await complete(body);
    json(200, {
      id: `chatcmpl-${Date.now()}`, object: "chat.completion", created: Math.floor(Date.now() / 1000), model: MODEL_ID,
      choices: [{index: 0, message: {role: "assistant", content: r.text}, finish_reason: r.finish}],
    });
  }).catch((e) => json(e instanceof BadRequest ? 400 : 500, {error: {message: String(e?.message || e)}}));
  queue = job;
}).listen(PORT, HOST, () => console.log(`OpenAI-compatible chat completions on http://${HOST}:${PORT}/v1 (model ${MODEL_ID}, ${THREADS} threads)`));
