/**
 * What the bot takes from Bolt at run time, from Bolt's own files rather than its index: the index
 * also loads ExpressReceiver (express, body-parser, qs, mime-db: ~120 modules) and
 * AwsLambdaReceiver, which the bot never uses (~13% of a start). Types still come from
 * '@slack/bolt'. test/unit/start-modules.test.ts checks that a start loads no express.
 */
import appModule from '@slack/bolt/dist/App.js';
import errorsModule from '@slack/bolt/dist/errors.js';
import socketModeModule from '@slack/bolt/dist/receivers/SocketModeReceiver.js';

export const App = appModule.default;
export type App = InstanceType<typeof App>;
export const ErrorCode = errorsModule.ErrorCode;
export const SocketModeReceiver = socketModeModule.default;
export type SocketModeReceiver = InstanceType<typeof SocketModeReceiver>;
export { LogLevel } from '@slack/logger';
export * as webApi from '@slack/web-api';
