"""Exit codes of ``losslab`` that launchers and study workers read."""

SETUP_ERROR = 2  # bad configuration or data, found before training
INTERRUPTED = 143  # 128 + SIGTERM: stopped at a step boundary (SIGTERM/SIGUSR1), last.ckpt saved, not finished
