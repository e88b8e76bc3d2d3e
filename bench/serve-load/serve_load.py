#!/usr/bin/env python3
"""Bounded loopback load against a running `flywheel serve`: for each concurrency level, that many streaming clients
each send REQUESTS completions back to back; reports aggregate generated tok/s, p50/p95 time to first token and
inter-token latency, and the batching gain (aggregate tok/s at 8 clients / at 1). Standard library only.

With --compare URL (a second server, e.g. the same model with `--capture off`), every level runs ROUNDS times on
each server, alternating which goes first (A B, B A, ...) so drift in machine speed falls on both alike, and the
throughput ratio A/B is printed per level (median of the rounds) and overall (all tokens / all wall time).

usage: serve_load.py [--url http://127.0.0.1:8080] [--levels 1,4,8,16] [--requests 4] [--max-tokens 64]
                     [--ignore-eos] [--json FILE] [--compare URL --rounds 3 --labels "capture on,capture off"]
                     [--hang-up-after N]
With --hang-up-after N (a disconnect burst), every second client closes its socket after N events of each request;
after each level the KV cache usage in the server's /metrics must fall back to 0 (exit status 1 otherwise).
Tokens are counted from the stream's usage (stream_options.include_usage) when the server reports it, else as the
events that carry text. Works against any OpenAI-compatible server that streams /v1/completions (llama-server too).
"""
import argparse, json, socket, threading, time, urllib.parse, urllib.request

PROMPTS = ["Once upon a time", "The little dog", "Lily and Tom went to the park", "One day, a big bird",
           "Tim had a red ball. He", "The sun was hot and", "Mom said", "There was a cat who liked to"]


def one_request(url, prompt, max_tokens, ignore_eos=False, hang_up_after=None):
    """Streams one completion over a raw socket (so each event is timed when its bytes arrive, not when a buffered
    reader gets round to it); returns (ttft seconds, [inter-token gaps], tokens). With hang_up_after=N the client
    closes its socket once N events with text have arrived (a client that goes away mid-stream)."""
    u = urllib.parse.urlparse(url)
    request = {"prompt": prompt, "max_tokens": max_tokens, "temperature": 0, "stream": True,
               "stream_options": {"include_usage": True}}
    if ignore_eos:
        request["ignore_eos"] = True
    body = json.dumps(request).encode()
    head = (f"POST /v1/completions HTTP/1.1\r\nHost: {u.hostname}:{u.port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    start = time.perf_counter()
    sock = socket.create_connection((u.hostname, u.port), timeout=600)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.sendall(head + body)
    stamps, raw, body, status, headers_done, chunked, usage = [], b"", b"", None, False, True, None
    while True:
        data = sock.recv(65536)
        if not data:
            break
        now = time.perf_counter()
        raw += data
        if not headers_done:
            if b"\r\n\r\n" not in raw:
                continue
            head_bytes, raw = raw.split(b"\r\n\r\n", 1)
            status = int(head_bytes.split(b" ", 2)[1])
            if status != 200:
                raise RuntimeError(f"HTTP {status}")
            headers_done = True
            chunked = b"transfer-encoding: chunked" in head_bytes.lower()
        if not chunked:
            body, raw = body + raw, b""
        # Undo the chunked transfer encoding: <hex size>\r\n<payload>\r\n ...
        while chunked and b"\r\n" in raw:
            size_line, rest = raw.split(b"\r\n", 1)
            size = int(size_line.split(b";")[0], 16)
            if len(rest) < size + 2:
                break
            body += rest[:size]
            raw = rest[size + 2:]
        # Count the SSE events that arrived in this read.
        while b"\n\n" in body:
            event, body = body.split(b"\n\n", 1)
            if not event.startswith(b"data: ") or event.startswith(b"data: [DONE]"):
                continue
            message = json.loads(event[6:])
            if message.get("usage"):
                usage = message["usage"].get("completion_tokens")
            choice = message.get("choices")
            if choice and choice[0].get("text"):
                stamps.append(now)
        if hang_up_after is not None and len(stamps) >= hang_up_after:
            break
    sock.close()
    if not stamps:
        return None, [], usage or 0
    gaps = [b - a for a, b in zip(stamps, stamps[1:])]
    return stamps[0] - start, gaps, usage if usage is not None else len(stamps)


def pct(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def level(url, clients, requests, max_tokens, ignore_eos=False, hang_up_after=None):
    """With hang_up_after, every second client (odd index) hangs up after that many events of each request."""
    ttfts, gaps, tokens, hung_up, errors = [], [], [0], [0], []
    lock = threading.Lock()

    def client(i):
        for r in range(requests):
            try:
                t, g, n = one_request(url, PROMPTS[(i + r) % len(PROMPTS)], max_tokens, ignore_eos,
                                      hang_up_after if i % 2 == 1 else None)
            except Exception as e:  # noqa: BLE001 - reported below
                with lock:
                    errors.append(str(e))
                continue
            with lock:
                if t is not None:
                    ttfts.append(t)
                gaps.extend(g)
                tokens[0] += n
                if hang_up_after is not None and i % 2 == 1:
                    hung_up[0] += n

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    return {"clients": clients, "tokens": tokens[0], "wall_s": wall, "tok_s": tokens[0] / wall,
            "ttft_p50_ms": 1000 * pct(ttfts, 50), "ttft_p95_ms": 1000 * pct(ttfts, 95),
            "itl_p50_ms": 1000 * pct(gaps, 50), "itl_p95_ms": 1000 * pct(gaps, 95), "errors": len(errors),
            "first_error": errors[0] if errors else None, "hung_up_tokens": hung_up[0]}


def warm_up(url):
    """One request long enough that the server's per-token code runs well past 30 times, then a pause. A server on a
    tiered JIT (Flywheel on .NET) recompiles a method optimized after about 30 calls, in the background: with the old
    8-token warm-up that recompilation (thousands of methods, over a second of CPU) ran during the first level and took
    a core from the forward passes, so the 1-client figure came out low and the batching gain high."""
    one_request(url, PROMPTS[0], 64, ignore_eos=True)
    time.sleep(2)


def kv_cache_usage(url):
    """flywheel_kv_cache_usage from the server's /metrics (the fraction of the KV cache held), or None."""
    u = urllib.parse.urlparse(url)
    try:
        with urllib.request.urlopen(f"{u.scheme}://{u.netloc}/metrics", timeout=10) as r:
            text = r.read().decode()
    except Exception:  # noqa: BLE001 - a server without these metrics
        return None
    values = [float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith("flywheel_kv_cache_usage")]
    return max(values) if values else None


def disconnect_burst(args):
    """Each level: half the clients hang up mid-stream; then waits (up to 30 s) for the KV cache to be free again."""
    ok = True
    for c in (int(x) for x in args.levels.split(",")):
        res = level(args.url, c, args.requests, args.max_tokens, args.ignore_eos, args.hang_up_after)
        usage = kv_cache_usage(args.url)
        for _ in range(300):
            if not usage:
                break
            time.sleep(0.1)
            usage = kv_cache_usage(args.url)
        kept = (c + 1) // 2 * args.requests
        print(f"{c} clients, {c // 2} hanging up after {args.hang_up_after} events: {res['tokens']} tokens in {res['wall_s']:.1f} s, "
              f"{res['errors']} errors; KV cache usage after: {'n/a' if usage is None else f'{usage:.4f}'}")
        if res["errors"] or (usage is not None and usage != 0):
            ok = False
        stayed = res["tokens"] - res["hung_up_tokens"]
        if args.ignore_eos and stayed != kept * args.max_tokens:
            print(f"  the {kept} requests that stayed got {stayed} tokens in all, not {kept} x {args.max_tokens}")
            ok = False
    print("disconnect burst: " + ("the cache ended free, no errors" if ok else "FAILED"))
    raise SystemExit(0 if ok else 1)


def compare(args):
    """Alternating rounds on two servers; prints per-level medians and the throughput ratio first/second."""
    urls = [args.url, args.compare]
    labels = [x.strip() for x in args.labels.split(",")]
    for url in urls:
        warm_up(url)
    totals = [[0, 0.0], [0, 0.0]]
    rows, errors = [], 0
    for c in (int(x) for x in args.levels.split(",")):
        rates = [[], []]
        for r in range(args.rounds):
            for which in ((0, 1) if r % 2 == 0 else (1, 0)):
                res = level(urls[which], c, args.requests, args.max_tokens, args.ignore_eos)
                errors += res["errors"]
                rates[which].append(res["tok_s"])
                totals[which][0] += res["tokens"]
                totals[which][1] += res["wall_s"]
        med = [sorted(x)[len(x) // 2] for x in rates]
        rows.append((c, med[0], med[1], med[0] / med[1], rates))
    print(f"{'clients':>7} {labels[0] + ' tok/s':>18} {labels[1] + ' tok/s':>18} {'ratio':>7}   rounds ({labels[0]} | {labels[1]})")
    for c, a, b, ratio, rates in rows:
        print(f"{c:>7} {a:>18.1f} {b:>18.1f} {ratio:>7.3f}   {' '.join(f'{x:.0f}' for x in rates[0])} | {' '.join(f'{x:.0f}' for x in rates[1])}")
    overall = (totals[0][0] / totals[0][1]) / (totals[1][0] / totals[1][1])
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"levels": [{"clients": c, "tok_s": [a, b], "rounds": rates} for c, a, b, _, rates in rows],
                       "errors": errors}, f)
    print(f"throughput ratio {labels[0]} / {labels[1]}: {overall:.3f} overall (all tokens / all wall time, {args.rounds} alternating rounds per level), "
          f"errors: {errors}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="http://127.0.0.1:8080")
    ap.add_argument("--levels", default="1,4,8,16")
    ap.add_argument("--requests", type=int, default=4, help="requests per client, back to back")
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--ignore-eos", action="store_true", help="ask for exactly --max-tokens tokens (ignore_eos)")
    ap.add_argument("--json", help="also write the results to this file as JSON (with --compare: the per-level medians "
                                   "of both servers and every round)")
    ap.add_argument("--compare", help="a second server's URL: alternate rounds on both and print the throughput ratio")
    ap.add_argument("--rounds", type=int, default=3, help="rounds per level and server with --compare")
    ap.add_argument("--labels", default="A,B", help="names of --url and --compare in the output")
    ap.add_argument("--hang-up-after", type=int,
                    help="disconnect burst: every second client hangs up after this many events; then the KV cache "
                         "usage from /metrics must return to 0")
    args = ap.parse_args()
    if args.hang_up_after is not None:
        disconnect_burst(args)
    if args.compare:
        compare(args)
        return
    warm_up(args.url)
    results = [level(args.url, int(c), args.requests, args.max_tokens, args.ignore_eos) for c in args.levels.split(",")]
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f)
    print(f"{'clients':>7} {'tokens':>7} {'wall s':>7} {'tok/s':>8} {'TTFT p50':>9} {'TTFT p95':>9} {'ITL p50':>8} {'ITL p95':>8} {'errors':>6}")
    for r in results:
        print(f"{r['clients']:>7} {r['tokens']:>7} {r['wall_s']:>7.2f} {r['tok_s']:>8.1f} {r['ttft_p50_ms']:>7.1f}ms {r['ttft_p95_ms']:>7.1f}ms "
              f"{r['itl_p50_ms']:>6.2f}ms {r['itl_p95_ms']:>6.2f}ms {r['errors']:>6}")
    for r in results:
        if r["first_error"]:
            print(f"  {r['clients']} clients, first error: {r['first_error']}")
    by = {r["clients"]: r for r in results}
    if 1 in by and 8 in by:
        print(f"batching gain (aggregate tok/s at 8 clients / at 1): {by[8]['tok_s'] / by[1]['tok_s']:.2f}x")


if __name__ == "__main__":
    main()
