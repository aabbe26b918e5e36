/** A boot session's nodes per phase (BootSession.counts in schema/45-boot-sessions.graphql): the cloud keeps them, the CLI shows them. */
export interface BootSessionCounts {
  total: number;
  pending: number;
  waiting: number;
  inProgress: number;
  succeeded: number;
  failed: number;
  rolledBack: number;
  staged: number;
  superseded: number;
}
