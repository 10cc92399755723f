// The --queue value: a PostgreSQL connection URL. It is a credential when it carries a
// password, and argv is readable by every user of the machine (ps), so a URL with a password
// is refused: the password goes in PGPASSWORD or ~/.pgpass, which the pg driver reads. The
// URL itself is never written to a file, a log or a report (only "the queue").
export class QueueUrlError extends Error {}

export function checkQueueUrl(value: string): string {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new QueueUrlError("--queue must be a PostgreSQL URL such as postgresql://USER@HOST:5432/DB (or postgresql:///DB?host=/run/postgresql for a Unix socket)");
  }
  if (u.protocol !== "postgres:" && u.protocol !== "postgresql:") {
    throw new QueueUrlError(`--queue must be a postgresql:// URL (got a ${u.protocol.replace(/:$/, "")}: URL)`);
  }
  if (u.password) {
    throw new QueueUrlError("--queue carries a password, and the command line is visible to every user of this machine; remove it from the URL and export PGPASSWORD (or use ~/.pgpass) instead");
  }
  return value;
}
