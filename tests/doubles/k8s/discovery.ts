/**
 * The discovery documents of the groups the double serves (/api, /api/v1, /apis, /apis/batch/v1) and /version,
 * as the real API server shapes them. Clients that address objects by kind (client-node's KubernetesObjectApi,
 * kubectl) read /api/v1 or /apis/GROUP/VERSION first to map a kind to its resource name.
 */
interface Resource {
  name: string
  singularName: string
  namespaced: boolean
  kind: string
  verbs: string[]
  shortNames?: string[]
}

const CRUD = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch']

const CORE: Resource[] = [
  { name: 'configmaps', singularName: 'configmap', namespaced: true, kind: 'ConfigMap', verbs: CRUD, shortNames: ['cm'] },
  { name: 'events', singularName: 'event', namespaced: true, kind: 'Event', verbs: CRUD, shortNames: ['ev'] },
  { name: 'pods', singularName: 'pod', namespaced: true, kind: 'Pod', verbs: CRUD, shortNames: ['po'] },
  { name: 'pods/log', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get'] },
  { name: 'secrets', singularName: 'secret', namespaced: true, kind: 'Secret', verbs: CRUD },
]

const BATCH: Resource[] = [
  { name: 'jobs', singularName: 'job', namespaced: true, kind: 'Job', verbs: CRUD },
  { name: 'jobs/status', singularName: '', namespaced: true, kind: 'Job', verbs: ['get', 'patch', 'update'] },
]

const batchVersion = { groupVersion: 'batch/v1', version: 'v1' }

/** The document served at `path`, or null when the path is not a discovery path. */
export function discoveryDocument(path: string, serverAddress: string): unknown | null {
  switch (path.replace(/\/$/, '')) {
    case '/api':
      return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] }
    case '/api/v1':
      return { kind: 'APIResourceList', groupVersion: 'v1', resources: CORE }
    case '/apis':
      return {
        kind: 'APIGroupList',
        apiVersion: 'v1',
        groups: [{ name: 'batch', versions: [batchVersion], preferredVersion: batchVersion }],
      }
    case '/apis/batch':
      return { kind: 'APIGroup', apiVersion: 'v1', name: 'batch', versions: [batchVersion], preferredVersion: batchVersion }
    case '/apis/batch/v1':
      return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: 'batch/v1', resources: BATCH }
    case '/version':
      return {
        major: '1',
        minor: '34',
        gitVersion: 'v1.34.0',
        gitCommit: '0000000000000000000000000000000000000000',
        gitTreeState: 'clean',
        buildDate: '2026-08-27T00:00:00Z',
        goVersion: 'go1.24.6',
        compiler: 'gc',
        platform: 'linux/amd64',
      }
    default:
      return null
  }
}
