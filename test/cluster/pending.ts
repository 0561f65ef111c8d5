/**
 * @module pending
 * What the cluster test may rely on yet. Each flag is a feature being built
 * on another branch; while it is false the test sets the cluster up the way
 * today's code can run it (and says so in its output), and the assertion
 * that needs the feature is reported as pending instead of passing quietly.
 * Flip a flag to true when its branch is merged.
 */
export const LANDED = {
  /** servers take AMQP_URL's comma-separated list and fail over between the nodes; QUEUE_TYPE=quorum declares quorum queues */
  brokerFailover: false,
  /** servers keep their durable state in DATABASE_URL (PostgreSQL) instead of SQLite under STATE_DIR */
  postgresState: false,
  /** `bun run start --parts LIST` starts only those parts, against an AMQP_URL, DATABASE_URL and existing secrets */
  startParts: false,
} as const;
