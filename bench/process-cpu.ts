/**
 * CPU seconds used so far by groups of processes, read from /proc (Linux): the broker's process tree,
 * PostgreSQL and Redis. CPU per message is a steadier measure than throughput on a shared machine.
 */
import fs from 'node:fs';

export interface CpuSample {
  broker: number;
  /** The broker's CPU by process role (a forked process's BRON_ROLE, else a single-role process's ROLE: http, pipeline; `other` for ROLE=all's primary). */
  brokerRoles: Record<string, number>;
  postgres: number;
  redis: number;
  /** Of the above, the seconds spent in the kernel (system time), per group. */
  kernel: { broker: number; postgres: number; redis: number };
}

function roleOf(pid: number): string {
  try {
    const environ = fs.readFileSync(`/proc/${pid}/environ`, 'utf8');
    const role = /(?:^|\0)BRON_ROLE=([^\0]*)/.exec(environ)?.[1] ?? /(?:^|\0)ROLE=([^\0]*)/.exec(environ)?.[1];
    return role === undefined || role === 'all' ? 'other' : role;
  } catch {
    return 'other';
  }
}

const TICKS_PER_SECOND = 100;

interface ProcessStat {
  readonly comm: string;
  readonly ppid: number;
  /** CPU seconds, and of those in the kernel. */
  readonly cpu: number;
  readonly system: number;
  /** CPU seconds of its children that have ended and been waited for (cutime + cstime). */
  readonly endedChildren: number;
}

function readStat(pid: string): ProcessStat | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const fields = stat.slice(close + 2).split(' ');
    // fields[0] is state; utime, stime, cutime and cstime are the 14th to 17th fields of the whole line.
    const ticks = (index: number): number => Number(fields[index]) / TICKS_PER_SECOND;
    return {
      comm,
      ppid: Number(fields[1]),
      cpu: ticks(11) + ticks(12),
      system: ticks(12),
      endedChildren: ticks(13) + ticks(14),
    };
  } catch {
    return null;
  }
}

/** Every process now running, by pid. */
function readAllStats(): Map<number, ProcessStat> {
  const stats = new Map<number, ProcessStat>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(entry);
    if (stat) stats.set(Number(entry), stat);
  }
  return stats;
}

/** Whether `pid` is one of `roots` or descends from one (the broker's, PostgreSQL's trees are shallow). */
function inTree(pid: number, roots: ReadonlySet<number>, stats: ReadonlyMap<number, ProcessStat>): boolean {
  for (let current = pid, hops = 0; current > 1 && hops < 5; hops++) {
    if (roots.has(current)) return true;
    current = stats.get(current)?.ppid ?? 0;
  }
  return false;
}

export function sampleCpu(brokerPids: number | readonly number[]): CpuSample {
  const roots = new Set(typeof brokerPids === 'number' ? [brokerPids] : brokerPids);
  const stats = readAllStats();
  const sample: CpuSample = {
    broker: 0,
    brokerRoles: {},
    postgres: 0,
    redis: 0,
    kernel: { broker: 0, postgres: 0, redis: 0 },
  };
  for (const [pid, stat] of stats) {
    if (stat.comm === 'postgres') {
      sample.postgres += stat.cpu;
      sample.kernel.postgres += stat.system;
    } else if (stat.comm.startsWith('redis-server')) {
      sample.redis += stat.cpu;
      sample.kernel.redis += stat.system;
    } else if (inTree(pid, roots, stats)) {
      sample.broker += stat.cpu;
      sample.kernel.broker += stat.system;
      const role = roleOf(pid);
      sample.brokerRoles[role] = (sample.brokerRoles[role] ?? 0) + stat.cpu;
    }
  }
  return sample;
}

/**
 * CPU seconds of a process and its descendants so far, including what its children that have ended
 * used (the root's cutime and cstime), so a PostgreSQL backend or autovacuum worker that exits between
 * two samples still counts.
 */
export function cpuOfTree(rootPid: number): number {
  const stats = readAllStats();
  const roots = new Set([rootPid]);
  let seconds = stats.get(rootPid)?.endedChildren ?? 0;
  for (const [pid, stat] of stats) if (inTree(pid, roots, stats)) seconds += stat.cpu;
  return seconds;
}

/** Resident memory of a process and its descendants (the broker's cluster), in MB. */
export function rssOfTree(rootPid: number): number {
  const stats = readAllStats();
  const roots = new Set([rootPid]);
  let kb = 0;
  for (const pid of stats.keys()) {
    if (!inTree(pid, roots, stats)) continue;
    try {
      kb += Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      // the process ended between the two reads
    }
  }
  return kb / 1024;
}

/** CPU seconds of the whole machine so far (/proc/stat): busy (everything but idle and iowait) and total. */
export function sampleMachine(): { busy: number; total: number } {
  // user nice system idle iowait irq softirq steal: guest and guest_nice are already inside user and nice.
  const fields = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = fields.reduce((sum, value) => sum + value, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return { busy: (total - idle) / TICKS_PER_SECOND, total: total / TICKS_PER_SECOND };
}
