import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** /proc's utime and stime count USER_HZ ticks, which Linux fixes at 100 per second. */
const USER_HZ = 100;

/** CPU time (user + system) a process has used so far, in milliseconds (10 ms resolution). */
export function cpuMillis(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name may contain spaces and parentheses: fields are counted after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1000) / USER_HZ;
}

/** One line per `Key:` of /proc/PID/status, e.g. status(pid).CapEff === '0000000000003000'. */
export function processStatus(pid: number): Record<string, string> {
  const entries = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .map((line) => /^(\w+):\s*(.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => [m[1]!, m[2]!.trim()]);
  return Object.fromEntries(entries);
}

/** What each open file descriptor of `pid` points at ("socket:[123]", "/dev/null", "pipe:[9]"...). */
export function openFiles(pid: number): Map<number, string> {
  const files = new Map<number, string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      files.set(Number(fd), readlinkSync(`/proc/${pid}/fd/${fd}`));
    } catch {
      // closed between readdir and readlink
    }
  }
  return files;
}

/** Socket inodes listed in /proc/PID/net/TABLE (packet, netlink, udp6, tcp6, unix, raw6...), seen from the process's namespace. */
export function socketInodes(pid: number, table: string): Set<string> {
  const lines = readFileSync(`/proc/${pid}/net/${table}`, 'utf8').trim().split('\n');
  const header = lines.shift()?.trim().split(/\s+/) ?? [];
  // Data rows of the tcp/udp tables have more columns than their header names; the inode is 10th.
  const column = table.startsWith('tcp') || table.startsWith('udp') || table.startsWith('raw') ? 9 : header.indexOf('Inode');
  return new Set(lines.map((line) => line.trim().split(/\s+/)[column] ?? '').filter((inode) => inode !== ''));
}

/** PIDs of the direct children of `pid` (all threads). */
export function childProcesses(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`).flatMap((task) =>
    readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number),
  );
}
