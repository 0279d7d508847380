/**
 * A CARLA shard's pod: the CARLA 0.9.15 server and the Traffic Manager host as native sidecars (init containers
 * with `restartPolicy: Always`, Kubernetes >= 1.29). Kubernetes starts the worker only once both startup probes
 * pass, and stops the sidecars when the worker exits, so the Job completes with the worker (docs/kubernetes.md §3).
 */
import type { V1Container } from '@kubernetes/client-node'
import type { z } from 'zod'
import { resourceStrings as stringify, type carlaSidecarsSchema } from './task-config.ts'

type CarlaSidecars = z.output<typeof carlaSidecarsSchema>

function portProbe(port: number, seconds: number) {
  const periodSeconds = 5
  return { tcpSocket: { port }, periodSeconds, failureThreshold: Math.ceil(seconds / periodSeconds) }
}

export function carlaSidecars(c: CarlaSidecars): V1Container[] {
  return [
    {
      name: 'carla-server',
      image: c.image,
      restartPolicy: 'Always',
      // Off-screen rendering on the pod's GPU; the server takes ports rpcPort..rpcPort+2 (docs/carla-protocol.md §7).
      command: ['bash', 'CarlaUE4.sh', '-RenderOffScreen', '-nosound', `-carla-rpc-port=${c.rpcPort}`],
      ports: [
        { name: 'rpc', containerPort: c.rpcPort },
        { name: 'stream', containerPort: c.rpcPort + 1 },
      ],
      resources: { requests: stringify(c.resources.requests), limits: stringify(c.resources.limits) },
      startupProbe: portProbe(c.rpcPort, c.startupSeconds),
    },
    {
      name: 'traffic-manager',
      image: c.trafficManagerImage,
      restartPolicy: 'Always',
      command: ['sh', '-c', 'python /opt/tm/tm_sidecar.py'],
      env: [
        { name: 'CARLA_HOST', value: '127.0.0.1' },
        { name: 'CARLA_PORT', value: String(c.rpcPort) },
        { name: 'TM_PORT', value: String(c.trafficManagerPort) },
      ],
      ports: [{ name: 'tm', containerPort: c.trafficManagerPort }],
      volumeMounts: [{ name: 'carla-tm-script', mountPath: '/opt/tm' }],
      startupProbe: portProbe(c.trafficManagerPort, c.startupSeconds),
    },
  ]
}
