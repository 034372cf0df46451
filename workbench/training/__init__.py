"""Multi-robot PPO for universal policies (see trainer.py for the algorithm, config.py for every setting).

torch's OpenMP threads busy-wait at their barriers by default; on a small shared machine
(2 cores, simulation threads, other jobs) a descheduled thread then stalls the others and
the learner runs up to ~10x slower. Passive waiting avoids that; it has to be set before
torch is first imported, so it is set here (unless the user chose otherwise).
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
