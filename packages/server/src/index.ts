export type { SocketMessage } from '@trellis/client/schemas';
export { type BuildServerOptions, buildServer, SERVER_VERSION, type TrellisServer } from './app.ts';
export { DEMO_PEER, type DemoPeerOutcome } from './demo-peer.ts';
export { DEFAULT_LIMITS, type Limits, type ServerContext } from './http/context.ts';
export { HttpProblem, type ProblemBody, type ProblemCode } from './http/problem.ts';
export { type Access, API_PREFIX, Api, type HandlerContext, type RouteSpec } from './http/route.ts';
export {
  DEFAULT_DB,
  DEFAULT_HOST,
  DEFAULT_PORT,
  type DemoServices,
  type RunningServer,
  registerDemoServices,
  type ServeOptions,
  seedBuiltinTemplates,
  startTrellisServer,
} from './serve.ts';
export { WS_CLOSE } from './streams/websocket.ts';
