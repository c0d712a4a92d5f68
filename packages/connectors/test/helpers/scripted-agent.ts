/**
 * A real A2A agent (the SDK's server on loopback) whose behaviour is chosen by the `script`
 * field of the data part it receives, so one server can drive every task-state mapping.
 * It counts what it received, so tests can prove "no second send" and "cancel reached it".
 */
import { TaskState } from '@a2a-js/sdk';
import { AgentEvent, type AgentExecutor, type ExecutionEventBus, type RequestContext } from '@a2a-js/sdk/server';
import {
  agentMessage,
  dataPart,
  publishArtifact,
  publishState,
  type RunningAgent,
  readUserMessage,
  sleepUnless,
  startAgent,
  startTask,
  textPart,
} from '../../../../examples/agents/a2a-kit.ts';

export interface ScriptedAgent extends RunningAgent {
  /** Messages received (each SendMessage / SendStreamingMessage). */
  sends: { text: string; data: Record<string, unknown>; metadata: Record<string, unknown>; taskId: string }[];
  cancels: string[];
}

export async function startScriptedAgent(options: { streaming: boolean; protocol?: '1.0' | '0.3' }): Promise<ScriptedAgent> {
  const sends: ScriptedAgent['sends'] = [];
  const cancels: string[] = [];
  const cancelled = new Set<string>();
  const executor: AgentExecutor = {
    cancelTask: async (taskId: string, bus: ExecutionEventBus) => {
      cancels.push(taskId);
      cancelled.add(taskId);
      // A task waiting for input has no running execute loop: cancel it here.
      publishState(bus, { taskId, contextId: '' }, TaskState.TASK_STATE_CANCELED);
    },
    execute: async (rc: RequestContext, bus: ExecutionEventBus) => {
      const { text, data } = readUserMessage(rc.userMessage);
      sends.push({ text, data, metadata: rc.userMessage.metadata ?? {}, taskId: rc.taskId });
      const script = String(data.script ?? (rc.task ? 'answer' : 'complete'));
      if (script === 'message') {
        bus.publish(
          AgentEvent.message(
            agentMessage({ taskId: '', contextId: rc.contextId }, [textPart('direct reply'), dataPart({ direct: true })], {
              costUsd: 0.002,
            }),
          ),
        );
        bus.finished();
        return;
      }
      const ids = startTask(rc, bus);
      const say = (t: string, meta?: Record<string, unknown>) => agentMessage(ids, [textPart(t)], meta);
      switch (script) {
        case 'complete':
          publishArtifact(bus, ids, 'result', [dataPart({ answer: 42, echo: data }), textPart('the answer')]);
          publishState(
            bus,
            ids,
            TaskState.TASK_STATE_COMPLETED,
            agentMessage(ids, [textPart('all good'), dataPart({ extra: true })], {
              costUsd: 0.0123,
              usage: { inputTokens: 1200, outputTokens: 340 },
            }),
          );
          break;
        case 'fail':
          publishState(bus, ids, TaskState.TASK_STATE_FAILED, say('boom: the index is offline'));
          break;
        case 'reject':
          publishState(bus, ids, TaskState.TASK_STATE_REJECTED, say('not my job'));
          break;
        case 'cancel':
          publishState(bus, ids, TaskState.TASK_STATE_CANCELED, say('gave up'));
          break;
        case 'auth':
          publishState(bus, ids, TaskState.TASK_STATE_AUTH_REQUIRED, say('Please sign in to the booking system'));
          break;
        case 'ask':
          publishState(bus, ids, TaskState.TASK_STATE_INPUT_REQUIRED, say('Which colour do you want?', { costUsd: 0.001 }));
          break;
        case 'answer':
          publishState(
            bus,
            ids,
            TaskState.TASK_STATE_COMPLETED,
            agentMessage(ids, [textPart(`you said: ${text}`), dataPart({ reply: text, replyData: data })], { costUsd: 0.004 }),
          );
          break;
        case 'slow': {
          const ok = await sleepUnless(Number(data.delayMs ?? 1500), () => cancelled.has(ids.taskId));
          if (!ok) publishState(bus, ids, TaskState.TASK_STATE_CANCELED, say('cancelled on request'));
          else publishState(bus, ids, TaskState.TASK_STATE_COMPLETED, agentMessage(ids, [dataPart({ slept: true })]));
          break;
        }
        default:
          publishState(bus, ids, TaskState.TASK_STATE_FAILED, say(`unknown script ${script}`));
      }
      bus.finished();
    },
  };
  const agent = await startAgent({
    name: `scripted-${options.streaming ? 'stream' : 'plain'}-${options.protocol ?? '1.0'}`,
    description: 'Test agent driven by data.script',
    streaming: options.streaming,
    protocol: options.protocol,
    skills: [{ id: 'script', name: 'Scripted', description: 'Does what the script says', tags: ['test'] }],
    executor,
  });
  return Object.assign(agent, { sends, cancels });
}
