#!/usr/bin/env bash
# Runs a real one-node Slurm cluster on localhost, for tests of runexp's Slurm
# support (they start it and stop it themselves). Debian/Ubuntu, as root; needs
# no systemd and uses no cgroups, so it works in a container.
#   bash scripts/slurm-local.sh start|stop|status
# start installs slurm-wlm and munge when missing, writes /etc/slurm/slurm.conf
# (node `hostname -s`, all CPUs, partition debug) and starts munged, slurmctld
# and slurmd; stop ends them. Both are idempotent. Logs: /var/log/slurm.
set -euo pipefail
node=$(hostname -s)
pids=(/run/slurm/slurmd.pid /run/slurm/slurmctld.pid /run/munge/munged.pid)

fail() { echo "slurm-local: $1 failed to start (see /var/log/slurm, /var/log/munge)" >&2; exit 1; }
# running PIDFILE: its process is alive (not a zombie) and has the file's name.
running() {
    ps -o stat=,comm= -p "$(cat "$1" 2>/dev/null)" 2>/dev/null |
        grep -q "^[^Z ]* *$(basename "$1" .pid)\$"
}

install() {
    command -v slurmctld >/dev/null && command -v slurmd >/dev/null &&
        command -v sbatch >/dev/null && command -v munged >/dev/null && return 0
    echo "slurm-local: installing slurm-wlm munge"
    export DEBIAN_FRONTEND=noninteractive
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends \
        slurm-wlm munge; } >/tmp/slurm-local-apt.log 2>&1 ||
        { echo "slurm-local: apt-get install slurm-wlm munge failed (see /tmp/slurm-local-apt.log)" >&2; exit 1; }
}

start_munge() {
    mkdir -p /etc/munge /run/munge /var/lib/munge /var/log/munge
    chown munge:munge /etc/munge /run/munge /var/lib/munge /var/log/munge
    chmod 0700 /etc/munge /var/lib/munge /var/log/munge; chmod 0755 /run/munge
    if [ ! -s /etc/munge/munge.key ]; then
        dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
    fi
    chown munge:munge /etc/munge/munge.key; chmod 0400 /etc/munge/munge.key
    running /run/munge/munged.pid || runuser -u munge -- munged </dev/null >/dev/null 2>&1 || fail munged
    munge -n | unmunge >/dev/null ||
        { echo "slurm-local: munge does not work (see /var/log/munge)" >&2; exit 1; }
}

write_conf() {
    local mem=$(( $(awk '/^MemTotal:/ {print $2}' /proc/meminfo) / 1024 * 9 / 10 ))
    mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm /run/slurm
    cat >/etc/slurm/slurm.conf.new <<EOF
# Written by scripts/slurm-local.sh: a one-node test cluster on localhost.
ClusterName=local
SlurmctldHost=$node(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
# A requeued job waits cred_expire s (default 120) before it may start again.
AuthInfo=cred_expire=10
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurm/slurmctld.pid
SlurmdPidFile=/run/slurm/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=2,bf_interval=2
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
JobRequeue=1
NodeName=$node NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
    # Nothing uses cgroups (proctrack/linuxproc, task/none). Slurm >= 23.02 can
    # skip them; 22.05 (bookworm) knows no "disabled" and autodetects v1/v2.
    if [ "$(printf '%s\n' 23.02 "$(slurmd -V | awk '{print $2}')" | sort -V | head -1)" = 23.02 ]
    then echo "CgroupPlugin=disabled"; else echo "# cgroup plugin autodetected, unused"; fi >/etc/slurm/cgroup.conf
    if cmp -s /etc/slurm/slurm.conf.new /etc/slurm/slurm.conf; then rm /etc/slurm/slurm.conf.new; return 0; fi
    mv /etc/slurm/slurm.conf.new /etc/slurm/slurm.conf
    if running /run/slurm/slurmctld.pid; then scontrol reconfigure; fi
}

start() {
    [ "$(id -u)" -eq 0 ] || { echo "slurm-local: run as root" >&2; exit 1; }
    # The daemons must not keep the caller's descriptors (a test's pipes) open.
    for fd in $(ls /proc/$$/fd); do
        if [ "$fd" -gt 2 ]; then eval "exec $fd>&-" 2>/dev/null || true; fi
    done
    install
    start_munge
    write_conf
    running /run/slurm/slurmctld.pid || slurmctld </dev/null >/dev/null 2>&1 || fail slurmctld
    running /run/slurm/slurmd.pid || slurmd </dev/null >/dev/null 2>&1 || fail slurmd
    local state=""
    for _ in $(seq 60); do
        state=$(sinfo -h -n "$node" -o %T 2>/dev/null || true)
        case "$state" in
            *'*') ;;  # slurmd not responding (yet)
            idle*|mixed*|allocated*) echo "slurm-local: node $node $state"; return 0 ;;
            down*|drain*) scontrol update nodename="$node" state=resume 2>/dev/null || true ;;
        esac
        sleep 1
    done
    echo "slurm-local: node $node not idle after 60 s (state '$state'; see /var/log/slurm)" >&2
    exit 1
}

# stop_pids PIDFILE...: TERM them, wait up to 30 s, then KILL what is left.
stop_pids() {
    local f alive
    for f in "$@"; do running "$f" && kill "$(cat "$f")" 2>/dev/null || true; done
    for _ in $(seq 30); do
        alive=""
        for f in "$@"; do running "$f" && alive=1; done
        [ -z "$alive" ] && break
        sleep 1
    done
    for f in "$@"; do running "$f" && kill -9 "$(cat "$f")" 2>/dev/null || true; done
    rm -f "$@"
}

stop() {
    if running /run/slurm/slurmctld.pid; then
        # Jobs would outlive slurmd (their slurmstepd keeps running): kill them.
        scancel --state=PENDING 2>/dev/null || true
        scancel --state=RUNNING --full --signal=KILL 2>/dev/null || true
        for _ in $(seq 15); do
            [ -z "$(squeue -h -t RUNNING,COMPLETING,SUSPENDED 2>/dev/null)" ] && break
            sleep 1
        done
        scontrol shutdown >/dev/null 2>&1 || true
    fi
    stop_pids /run/slurm/slurmd.pid /run/slurm/slurmctld.pid
    stop_pids /run/munge/munged.pid
    echo "slurm-local: stopped"
}

status() {
    for f in "${pids[@]}"; do
        if running "$f"; then echo "$(basename "$f" .pid): running"; else echo "$(basename "$f" .pid): stopped"; fi
    done
    running /run/slurm/slurmctld.pid && sinfo
    return 0
}

case "${1:-}" in
    start) start ;; stop) stop ;; status) status ;;
    *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
