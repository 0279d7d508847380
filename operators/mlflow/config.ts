/**
 * The MLflow operators' configuration slice, read by runtime/config.ts from the variables MLflow's own client
 * reads. No MLFLOW_TRACKING_URI means MLflow is not configured: the steps skip with a notice.
 */
import { z, type ConfigSlice } from '../../runtime/operator.ts'

export const mlflowConfig = {
  schema: z.object({
    trackingUri: z.string().min(1).optional(),
    username: z.string().min(1).optional(),
    password: z.string().optional(),
    token: z.string().min(1).optional(),
  }),
  env: {
    trackingUri: 'MLFLOW_TRACKING_URI',
    username: 'MLFLOW_TRACKING_USERNAME',
    password: 'MLFLOW_TRACKING_PASSWORD',
    token: 'MLFLOW_TRACKING_TOKEN',
  },
} satisfies ConfigSlice

export type MlflowConfig = z.output<typeof mlflowConfig.schema>
