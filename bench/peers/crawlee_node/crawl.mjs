// The Crawlee for Node peer: a CheerioCrawler, set up as Crawlee's guides do.
//
//   node bench/peers/crawlee_node/crawl.mjs --workers 32 --max-requests 2000 \
//       --storage DIR --out pages.txt (URL | --seeds-file FILE) [--polite-delay 0.5] [--robots]
//
// Concurrency is pinned at --workers (min = max, so the autoscaled pool neither ramps up nor
// backs off). Links are each page's <a href>, enqueued with the same-origin strategy (the seed's
// scheme, host and port), or with "all" when --seeds-file names the site's hosts. robots.txt is
// obeyed only with --robots. Without --polite-delay nothing is delayed; with it Crawlee's
// sameDomainDelaySecs spaces two requests to a host by that many seconds; Crawlee keys
// that delay by registrable domain (tldts getDomain), which is null for an IP address, so
// delayRequest below is Crawlee's own with the host as the key. Crawlee's storage (request queue,
// key-value store) lives under --storage, purged on start. Each HTML page fetched with status 200
// is written to --out as "epoch-seconds URL" at once, so an interrupted run leaves what it
// fetched; Crawlee's final statistics go to stderr as one JSON line.

import fs from 'node:fs';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
        workers: { type: 'string' },
        'max-requests': { type: 'string' },
        storage: { type: 'string' },
        out: { type: 'string' },
        'seeds-file': { type: 'string' },
        'polite-delay': { type: 'string' },
        robots: { type: 'boolean', default: false },
    },
});
if (!values.workers || !values['max-requests'] || !values.storage || !values.out) {
    console.error('usage: crawl.mjs --workers N --max-requests N --storage DIR --out FILE URL');
    process.exit(2);
}
// Crawlee reads its storage folder from the environment when it is first imported.
process.env.CRAWLEE_STORAGE_DIR = values.storage;
process.env.CRAWLEE_PURGE_ON_START = 'true';
const { CheerioCrawler, Configuration, EnqueueStrategy, log } = await import('crawlee');

const workers = Number(values.workers);
const polite = values['polite-delay'] !== undefined;
const seeds = values['seeds-file']
    ? fs.readFileSync(values['seeds-file'], 'utf8').split('\n').map((line) => line.trim())
        .filter((line) => line && !line.startsWith('#'))
    : positionals;
if (seeds.length === 0) {
    console.error('give a seed URL or --seeds-file');
    process.exit(2);
}
const strategy = values['seeds-file'] ? EnqueueStrategy.All : EnqueueStrategy.SameOrigin;
const out = fs.openSync(values.out, 'w');
log.setLevel(log.LEVELS.WARNING);

class HostPacedCrawler extends CheerioCrawler {
    // Crawlee's delayRequest (basic-crawler.js), keyed by host instead of registrable domain.
    delayRequest(request, source) {
        if (!this.sameDomainDelayMillis || !request) return false;
        const host = new URL(request.url).host;
        const now = Date.now();
        const last = this.domainAccessedTime.get(host);
        if (!last || now - last >= this.sameDomainDelayMillis) {
            this.domainAccessedTime.set(host, now);
            return false;
        }
        setTimeout(() => source.reclaimRequest(request), last + this.sameDomainDelayMillis - now);
        return true;
    }
}

const crawler = new HostPacedCrawler({
    minConcurrency: workers,
    maxConcurrency: workers,
    maxRequestsPerCrawl: Number(values['max-requests']),
    maxRequestRetries: 3,
    respectRobotsTxtFile: values.robots,
    sameDomainDelaySecs: polite ? Number(values['polite-delay']) : 0,
    async requestHandler({ request, response, enqueueLinks }) {
        const kind = String(response.headers['content-type'] ?? '');
        if (response.statusCode === 200 && kind.includes('html')) {
            fs.writeSync(out, `${(Date.now() / 1000).toFixed(4)} ${request.loadedUrl ?? request.url}\n`);
        }
        await enqueueLinks({ strategy });
    },
}, new Configuration({ purgeOnStart: true }));

const started = performance.now();
const stats = await crawler.run(seeds);
fs.closeSync(out);
console.error(JSON.stringify({
    crawlee: {
        requests_finished: stats.requestsFinished,
        requests_failed: stats.requestsFailed,
        requests_total: stats.requestsTotal,
        crawler_runtime_s: stats.crawlerRuntimeMillis / 1000,
        run_s: (performance.now() - started) / 1000,
    },
}));
