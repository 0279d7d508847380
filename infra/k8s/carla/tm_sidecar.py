"""Traffic Manager sidecar for a CARLA 0.9.15 pod.

CARLA's Traffic Manager is client-side (LibCarla's TrafficManagerLocal): the first client that asks for port P
hosts it and publishes (ip, port) with add_traffic_manager_running. adas-forge's TypeScript client cannot host
one, so this sidecar, next to the server in the same pod, does it with CARLA's own Python API. The TypeScript
generation operator then talks to it over the plain TM RPC (register_vehicle, set_synchronous_mode,
synchronous_tick, ...) on TM_PORT.

Untested here: the carla wheel (PyPI `carla==0.9.15`) cannot be installed on the project's machines.
"""
import os
import signal
import sys
import time

import carla  # provided by the image (pip install carla==0.9.15)

HOST = os.environ.get("CARLA_HOST", "127.0.0.1")
PORT = int(os.environ.get("CARLA_PORT", "2000"))
TM_PORT = int(os.environ.get("TM_PORT", "8000"))
SEED = int(os.environ.get("TM_SEED", "0"))


def main() -> int:
    client = None
    deadline = time.time() + 300
    while client is None:
        try:
            client = carla.Client(HOST, PORT)
            client.set_timeout(10.0)
            print(f"tm-sidecar: CARLA {client.get_server_version()} at {HOST}:{PORT}", flush=True)
        except RuntimeError as err:  # the server is still starting
            client = None
            if time.time() > deadline:
                print(f"tm-sidecar: CARLA did not answer within 300s: {err}", file=sys.stderr, flush=True)
                return 1
            time.sleep(2)
    tm = client.get_trafficmanager(TM_PORT)  # hosts TrafficManagerLocal and its RPC server on TM_PORT
    tm.set_random_device_seed(SEED)
    print(f"tm-sidecar: Traffic Manager listening on {TM_PORT}", flush=True)

    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    # The TM lives as long as this process; the generation operator drives its ticks over RPC.
    while not stopping:
        time.sleep(1)
    tm.shut_down()
    return 0


if __name__ == "__main__":
    sys.exit(main())
