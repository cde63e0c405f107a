# Shared by scripts/s3-server.sh and scripts/sts-server.sh (sourced, not run): a test service
# started in the background, remembered by its PID in a state directory, stopped by that PID.

# stop_service STATE_DIR: TERM, up to 10 s, then KILL the process whose PID is in STATE_DIR/pid.
stop_service() {
  local state=$1 pid
  if [ -f "$state/pid" ]; then
    pid=$(cat "$state/pid")
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
    fi
  fi
  return 0
}

# free_port: a TCP port free on 127.0.0.1 now.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
