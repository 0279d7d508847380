/** The API server's `Status` error bodies, exactly as docs/kubernetes.md §7 shows them. */
export interface StatusBody {
  kind: 'Status'
  apiVersion: 'v1'
  metadata: Record<string, never>
  status: 'Failure' | 'Success'
  message?: string
  reason?: string
  details?: Record<string, unknown>
  code?: number
}

const GROUP: Record<string, string | undefined> = { jobs: 'batch', pods: undefined, events: undefined }

function resourceString(resource: string): string {
  return GROUP[resource] ? `${resource}.${GROUP[resource]}` : resource
}

function details(resource: string, name?: string): Record<string, unknown> {
  return { ...(name ? { name } : {}), ...(GROUP[resource] ? { group: GROUP[resource] } : {}), kind: resource }
}

export const status = {
  notFound: (resource: string, name: string): StatusBody => ({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: `${resourceString(resource)} "${name}" not found`,
    reason: 'NotFound',
    details: details(resource, name),
    code: 404,
  }),
  alreadyExists: (resource: string, name: string, deleting: boolean): StatusBody => ({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: `${deleting ? 'object is being deleted: ' : ''}${resourceString(resource)} "${name}" already exists`,
    reason: 'AlreadyExists',
    details: details(resource, name),
    code: 409,
  }),
  expired: (message: string): StatusBody => ({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason: 'Expired',
    code: 410,
  }),
  badRequest: (message: string): StatusBody => ({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason: 'BadRequest',
    code: 400,
  }),
  unauthorized: (): StatusBody => ({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: 'Unauthorized',
    reason: 'Unauthorized',
    code: 401,
  }),
  invalid: (kind: string, name: string, causes: Array<{ reason: string; message: string; field: string }>): StatusBody => ({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: `${kind}.batch "${name}" is invalid: ${causes.map((c) => `${c.field}: ${c.message}`).join(', ')}`,
    reason: 'Invalid',
    details: { name, group: 'batch', kind, causes },
    code: 422,
  }),
  success: (resource: string, name: string, uid: string): StatusBody => ({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Success',
    details: { ...details(resource, name), uid },
  }),
}
