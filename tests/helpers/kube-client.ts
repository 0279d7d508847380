/** A real @kubernetes/client-node configuration pointed at the in-repo API double. */
import { KubeConfig } from '@kubernetes/client-node'

export function kubeConfigFor(server: string, token = 'test-token'): KubeConfig {
  const kc = new KubeConfig()
  kc.loadFromOptions({
    clusters: [{ name: 'double', server, skipTLSVerify: true }],
    users: [{ name: 'forge', token }],
    contexts: [{ name: 'double', cluster: 'double', user: 'forge', namespace: 'forge' }],
    currentContext: 'double',
  })
  return kc
}
