#!/usr/bin/env bash
# A private single-node SLURM cluster on this machine, for the `slurm` tests and for trying
# `losslab grid run --launcher slurm` without a real cluster.
#
#   bash scripts/slurm_cluster.sh start    # install (if missing), configure, start; idempotent
#   bash scripts/slurm_cluster.sh status   # daemons and node state
#   bash scripts/slurm_cluster.sh stop     # stop only the daemons this script started (pid files)
#
# Everything lives in $LOSSLAB_SLURM_DIR (default /tmp/losslab-slurm): slurm.conf, a private munge key
# and socket, state, spool, logs and pid files. Nothing under /etc is changed; clients find the cluster
# through SLURM_CONF, which `start` prints as its last line (`eval "$(bash scripts/slurm_cluster.sh start)"`).
# Needs root (slurmd starts jobs as their users) and Debian's packages (installed with apt-get when missing).
# No systemd and no cgroups: proctrack/linuxproc, task/none. Finished jobs stay visible in squeue and
# `scontrol show job` for a day (MinJobAge), since there is no accounting database (sacct does not work).
set -euo pipefail

DIR="${LOSSLAB_SLURM_DIR:-/tmp/losslab-slurm}"
CTLD_PORT="${LOSSLAB_SLURM_CTLD_PORT:-6917}"
SLURMD_PORT="${LOSSLAB_SLURM_SLURMD_PORT:-6918}"
CONF="$DIR/slurm.conf"
export SLURM_CONF="$CONF"

log() { echo "slurm_cluster: $*" >&2; }
die() { log "error: $*"; exit 1; }

# pid of a daemon this script started, if it is still that daemon (pid files can outlive their process).
running_pid() {
    local name="$1" pidfile="$DIR/run/$1.pid" pid
    [[ -s "$pidfile" ]] || return 1
    pid="$(cat "$pidfile")"
    [[ -r "/proc/$pid/comm" && "$(cat "/proc/$pid/comm")" == "$name" ]] || return 1
    echo "$pid"
}

install_packages() {
    command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v sbatch >/dev/null \
        && command -v munged >/dev/null && return 0
    command -v apt-get >/dev/null || die "slurmctld/slurmd/munge are not installed and apt-get is not available"
    log "installing slurmctld slurmd slurm-client munge (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    local packages=(slurmctld slurmd slurm-client munge)
    apt-get install -y -q --no-install-recommends "${packages[@]}" >"$DIR/log/apt.log" 2>&1 \
        || { apt-get update -q >>"$DIR/log/apt.log" 2>&1 \
            && apt-get install -y -q --no-install-recommends "${packages[@]}" >>"$DIR/log/apt.log" 2>&1; } \
        || die "apt-get install failed; see $DIR/log/apt.log"
}

write_config() {
    # The node as slurmd sees it; RealMemory a little below the total so slurmd never reports "low memory".
    local cpus memory
    cpus="$(slurmd -C | sed -n 's/.*CPUs=\([0-9]*\).*/\1/p' | head -1)"
    memory="$(slurmd -C | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' | head -1)"
    [[ -n "$cpus" && -n "$memory" ]] || die "could not read CPUs/RealMemory from 'slurmd -C'"
    memory=$((memory * 9 / 10))
    cat >"$CONF.tmp" <<EOF
# Written by scripts/slurm_cluster.sh: a private single-node cluster (no systemd, no cgroups, no accounting).
ClusterName=losslab
SlurmctldHost=localhost
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
# cred_expire also holds a requeued job back (default 120 s; with 10 it restarts after ~20 s).
AuthInfo=socket=$DIR/run/munge.socket,cred_expire=10
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/run/slurmctld.pid
SlurmdPidFile=$DIR/run/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# Without a default, a job without --mem gets the whole node's memory and jobs run one at a time.
DefMemPerCPU=$((memory / cpus))
# Finished jobs stay in the controller (squeue --states=all, scontrol show job) for a day.
MinJobAge=86400
KillWait=2
ReturnToService=2
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
PartitionName=short Nodes=localhost MaxTime=5 State=UP
EOF
    mv "$CONF.tmp" "$CONF"
}

wait_for_node() {
    local state=""
    for _ in $(seq 1 60); do
        state="$(sinfo -h -n localhost -p debug -o %t 2>/dev/null | head -1 || true)"
        case "$state" in
            idle | mix | alloc | comp) return 0 ;;
            down* | drain* | drng*) scontrol update nodename=localhost state=resume >/dev/null 2>&1 || true ;;
        esac
        sleep 0.5
    done
    die "node localhost is '${state:-not reported}' after 30 s; see $DIR/log/slurmctld.log and slurmd.log"
}

start() {
    [[ "$(id -u)" == 0 ]] || die "must run as root (slurmd starts jobs as their users)"
    mkdir -p "$DIR"/{run,key,state,spool,log}
    chmod 755 "$DIR/run" # munged wants its socket directory searchable by everyone, and the key private
    chmod 700 "$DIR/key"
    install_packages
    # A fresh start (re)writes the config for this machine; a running cluster keeps the one it runs on.
    running_pid slurmctld >/dev/null || write_config
    if [[ ! -s "$DIR/key/munge.key" ]]; then
        dd if=/dev/urandom of="$DIR/key/munge.key.tmp" bs=1024 count=1 status=none
        chmod 400 "$DIR/key/munge.key.tmp"
        mv "$DIR/key/munge.key.tmp" "$DIR/key/munge.key"
    fi
    if ! running_pid munged >/dev/null; then
        munged --socket="$DIR/run/munge.socket" --key-file="$DIR/key/munge.key" --log-file="$DIR/log/munged.log" \
            --pid-file="$DIR/run/munged.pid" --seed-file="$DIR/key/munged.seed" \
            || die "munged did not start; see $DIR/log/munged.log"
    fi
    running_pid slurmctld >/dev/null || slurmctld || die "slurmctld did not start; see $DIR/log/slurmctld.log"
    running_pid slurmd >/dev/null || slurmd -N localhost || die "slurmd did not start; see $DIR/log/slurmd.log"
    wait_for_node
    log "up: $(sinfo -h -o '%P %a %l %D %t %N' | tr '\n' ';')"
    echo "export SLURM_CONF=$CONF"
}

stop() {
    local name pid jobs
    # Jobs of this private cluster end with it: their processes would outlive slurmd otherwise.
    if running_pid slurmctld >/dev/null; then
        jobs="$(squeue -h -o %A 2>/dev/null | sort -u | tr '\n' ' ')"
        if [[ -n "${jobs// /}" ]]; then
            # shellcheck disable=SC2086
            scancel $jobs 2>/dev/null || true
            for _ in $(seq 1 50); do
                [[ -z "$(squeue -h -t running,completing -o %A 2>/dev/null)" ]] && break
                sleep 0.2
            done
            log "cancelled jobs $jobs"
        fi
    fi
    for name in slurmd slurmctld munged; do
        if pid="$(running_pid "$name")"; then
            kill "$pid"
            for _ in $(seq 1 50); do
                [[ -d "/proc/$pid" ]] || break
                sleep 0.1
            done
            [[ -d "/proc/$pid" ]] && kill -9 "$pid"
            log "stopped $name ($pid)"
        fi
        rm -f "$DIR/run/$name.pid"
    done
}

status() {
    local name pid down=0
    for name in munged slurmctld slurmd; do
        if pid="$(running_pid "$name")"; then log "$name running ($pid)"; else log "$name not running"; down=1; fi
    done
    [[ $down == 0 ]] && sinfo >&2
    return $down
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) status ;;
    *) die "usage: $0 start|stop|status" ;;
esac
