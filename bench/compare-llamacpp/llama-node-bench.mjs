// Times llama.cpp's prebuilt CPU library, as shipped in the npm package node-llama-cpp, the way llama-bench does:
// pp = one evaluation of PP tokens from an empty cache (logits for the last one), tg = TG single-token evaluations
// from an empty cache (logits each step, no sampling, as llama-bench's generation test). Each figure is the median
// tok/s of REPS runs after one warm-up run. The last stdout line is one JSON object:
// {"pp_tok_s", "tg_tok_s", "threads", "cpu_variant", "flash_attention", "batch_size", "library"}.
//
// usage: node llama-node-bench.mjs --lib NODE_MODULES_DIR --model FILE [--threads 2] [--pp 512] [--tg 128] [--reps 5]
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

const { values: a } = parseArgs({
    options: {
        lib: { type: "string" }, model: { type: "string" }, threads: { type: "string", default: "2" },
        pp: { type: "string", default: "512" }, tg: { type: "string", default: "128" }, reps: { type: "string", default: "5" },
    },
});
if (!a.lib || !a.model) {
    console.error("usage: node llama-node-bench.mjs --lib NODE_MODULES_DIR --model FILE [--threads N] [--pp N] [--tg N] [--reps N]");
    process.exit(2);
}
const threads = Number(a.threads), pp = Number(a.pp), tg = Number(a.tg), reps = Number(a.reps);
const { getLlama, LlamaLogLevel } = await import(pathToFileURL(join(a.lib, "node-llama-cpp", "dist", "index.js")).href);
const version = JSON.parse(readFileSync(join(a.lib, "node-llama-cpp", "package.json"), "utf8")).version;

// build: "never" uses only the prebuilt binaries; maxThreads 0 makes the context's thread count exact rather than a hint.
const llama = await getLlama({ gpu: false, build: "never", maxThreads: 0, logLevel: LlamaLogLevel.error });
const model = await llama.loadModel({ modelPath: a.model, gpuLayers: 0 });
const context = await model.createContext({ contextSize: pp + tg + 16, batchSize: Math.max(pp, 1), threads, sequences: 1 });
const sequence = context.getSequence();

// ggml loads the best CPU variant for this CPU as a shared library; name the one this process mapped.
const maps = readFileSync("/proc/self/maps", "utf8");
const variant = [...new Set([...maps.matchAll(/libggml-cpu[-\w]*\.so/g)].map((m) => m[0]))].join(",") || "unknown";

const vocab = model.tokens.eosToken != null ? model.fileInsights.tensorInfo?.find((t) => t.name === "token_embd.weight")?.dimensions?.[1] : undefined;
const nVocab = Number(vocab ?? 32000);
let seed = 1234;
const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) % nVocab;
const prompt = Array.from({ length: pp }, random);

// _noSampling (node-llama-cpp 3.22.1's evaluate option) computes the last token's logits and stops without sampling,
// which is what llama-bench times; evaluateWithoutGeneratingNewTokens would skip the output matrix altogether.
async function evaluateOnce(tokens) {
    for await (const _ of sequence.evaluate(tokens, { _noSampling: true })) { /* yields nothing without sampling */ }
}

const ppRates = [], tgRates = [];
for (let r = 0; r <= reps; r++) { // run 0 warms up
    if (pp > 0) {
        await sequence.clearHistory();
        const start = process.hrtime.bigint();
        await evaluateOnce(prompt);
        const seconds = Number(process.hrtime.bigint() - start) / 1e9;
        if (sequence.nextTokenIndex !== pp) throw new Error(`evaluated ${sequence.nextTokenIndex} tokens, expected ${pp}`);
        if (r > 0) ppRates.push(pp / seconds);
    }
    if (tg > 0) {
        await sequence.clearHistory();
        let token = random();
        const start = process.hrtime.bigint();
        for (let i = 0; i < tg; i++) {
            await evaluateOnce([token]);
            token = random();
        }
        const seconds = Number(process.hrtime.bigint() - start) / 1e9;
        if (sequence.nextTokenIndex !== tg) throw new Error(`evaluated ${sequence.nextTokenIndex} tokens, expected ${tg}`);
        if (r > 0) tgRates.push(tg / seconds);
    }
    if (r > 0) console.log(`rep ${r}: pp ${(ppRates.at(-1) ?? 0).toFixed(2)} tok/s, tg ${(tgRates.at(-1) ?? 0).toFixed(2)} tok/s`);
}
const median = (xs) => {
    if (xs.length === 0) return 0;
    const s = [...xs].sort((x, y) => x - y), m = s.length >> 1;
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
console.log(JSON.stringify({
    pp_tok_s: median(ppRates), tg_tok_s: median(tgRates), threads: context.currentThreads, cpu_variant: variant,
    flash_attention: context.flashAttention, batch_size: context.batchSize, library: `node-llama-cpp ${version}`,
}));
await context.dispose();
await model.dispose();
await llama.dispose();
