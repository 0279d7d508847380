/**
 * `trainingWebhook(...)`: the task that starts a training run in an external system (operator
 * 'training.webhook'). When the final status names the model it produced (`model: { name, version }`), the
 * `model://NAME` outlet is recorded as the local training run records it.
 */
import type { FunctionTaskSpec, Ref } from '../../runtime/index.ts'
import { recordOutlet, type OutletContext } from './outlet.ts'
import { triggerTrainingWebhook, type WebhookResult } from './trigger-webhook.ts'
import type { CallEnv } from './webhook-call.ts'
import type { WebhookInput } from './webhook-options.ts'

export type TrainingWebhookInputs = { [K in keyof WebhookInput]: WebhookInput[K] | Ref<NonNullable<WebhookInput[K]>> }

export function trainingWebhook(
  inputs: TrainingWebhookInputs,
  env: Pick<CallEnv, 'dispatcher'> = {},
): FunctionTaskSpec<TrainingWebhookInputs, WebhookResult> {
  return {
    kind: 'function',
    operator: 'training.webhook',
    inputs,
    run: async (ctx) => {
      const input = ctx.inputs as WebhookInput
      const r = await triggerTrainingWebhook(
        input,
        { dagId: ctx.dagId, runId: ctx.runId, taskId: ctx.taskId },
        { ...env, signal: ctx.signal, log: ctx.log },
      )
      const model = (r.final?.body as { model?: { name?: unknown; version?: unknown } } | undefined)?.model
      if (typeof model?.name === 'string' && model.version !== undefined) {
        await recordOutlet(ctx as OutletContext, `model://${model.name}`, {
          version: String(model.version),
          dataset: input.dataset.tag,
          dataset_md5: input.dataset.md5 ?? null,
          mlflow_run_id: null,
        })
      }
      return r
    },
  }
}
