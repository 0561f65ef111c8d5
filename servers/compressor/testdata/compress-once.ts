/**
 * One compressor process for job.test.ts's race (arguments: the test's
 * folder, the job id, this process's machine name): its own connection to
 * the test's store, compressJob on JOB_ID (handed back and tried again while
 * another holds the claim, as the consumer runtime does), every event it
 * sends and then its result printed as JSON lines.
 */
import { openDb } from "../../shared/db.ts";
import { FinishedJobs, legacyRecordsDir } from "../../shared/finishedjobs.ts";
import { createLogger } from "../../shared/log.ts";
import { Claims } from "../claims.ts";
import { JobBusy } from "../errors.ts";
import { compressJob } from "../job.ts";

const [root, jobId, machine] = Bun.argv.slice(2) as [string, string, string];
const db = await openDb(`${root}/state`, "compressor");
const config = { DOWNLOADS_DIR: `${root}/downloads`, ARCHIVES_DIR: `${root}/archives`, PUBLIC_URL: "http://127.0.0.1:9", LINK_TTL_SECONDS: 3600, MAX_LINK_TTL_SECONDS: 86400 };
const deps = {
  config, secret: "test-secret", machine, log: createLogger("compress-once", "error"),
  records: await FinishedJobs.open(db, legacyRecordsDir(`${root}/state`)),
  claims: await Claims.open(db),
  publish: async (key: string, ev: unknown) => console.log(JSON.stringify({ key, ev })),
};
for (let busy = 0; ; busy++) {
  try {
    console.log(JSON.stringify({ result: await compressJob(deps, { jobId }), busy }));
    break;
  } catch (err) {
    if (!(err instanceof JobBusy)) throw err;
    await Bun.sleep(20);
  }
}
await db.close();
