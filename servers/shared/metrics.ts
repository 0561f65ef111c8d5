/**
 * @module metrics
 * What operators can watch, in Prometheus' text format (prom-client): one
 * registry per process, labelled with the process's name, holding every
 * linkpack metric (a process that does not do a thing shows it at zero).
 * The web server answers `GET /metrics` to this machine and, through a
 * proxy, only to holders of the internal token (a public instance must not
 * show its numbers to everyone; app.tsx); the downloader, compressor, link
 * guard and clock answer it on their internal ports.
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";

export function createMetrics(process: string) {
  const registry = new Registry();
  registry.setDefaultLabels({ process });
  const registers = [registry];
  return {
    registry,
    /** jobs that ended, by final state (web, as it folds the final event) */
    jobsFinished: new Counter({ name: "linkpack_jobs_finished_total", help: "Jobs that ended, by final state", labelNames: ["state"] as const, registers }),
    /** POST /jobs to the link event */
    timeToLink: new Histogram({
      name: "linkpack_time_to_link_seconds",
      help: "Time from a job's creation to its link",
      buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
      registers,
    }),
    /** open SSE streams of this web process */
    eventStreams: new Gauge({ name: "linkpack_event_streams_open", help: "Open event streams", registers }),
    /** free bytes on the downloads and archives volumes */
    diskFree: new Gauge({ name: "linkpack_disk_free_bytes", help: "Free bytes on a volume linkpack fills", labelNames: ["volume"] as const, registers }),
    /** files that ended, by outcome (downloader) */
    files: new Counter({ name: "linkpack_files_total", help: "Files that ended, by outcome", labelNames: ["state"] as const, registers }),
    /** bytes saved by downloads (downloader) */
    downloadedBytes: new Counter({ name: "linkpack_downloaded_bytes_total", help: "Bytes downloaded into job folders", registers }),
    /** attempts started again after a failure that may pass (downloader) */
    retries: new Counter({ name: "linkpack_download_retries_total", help: "Download retries", registers }),
    /** archives built, and jobs the compressor failed (compressor) */
    archives: new Counter({ name: "linkpack_archives_total", help: "Archives built (ready) and jobs failed by the compressor", labelNames: ["state"] as const, registers }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/** The `GET /metrics` answer. */
export async function metricsResponse(m: Metrics): Promise<Response> {
  return new Response(await m.registry.metrics(), { headers: { "content-type": m.registry.contentType } });
}
