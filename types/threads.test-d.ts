import { expectError, expectType } from "tsd";
import { getThreads, setThreads, threadsReady, threadStats, threadSupport, type ThreadStats, type ThreadSupport } from "../src/index.js";

// setThreads takes a count and returns nothing; getThreads returns the count
expectType<void>(setThreads(2));
expectType<number>(getThreads());
expectError(setThreads("2"));
expectError(setThreads());

// threadSupport: whether threads run here, and why not
expectType<ThreadSupport>(threadSupport());
expectType<boolean>(threadSupport().available);
expectType<string>(threadSupport().reason);
expectError((threadSupport().available = false));

// threadsReady resolves when the workers have booted; threadStats counts what they did
expectType<Promise<void>>(threadsReady());
expectType<ThreadStats>(threadStats());
expectType<number>(threadStats().workerTasks);
expectError(threadStats().workers.toUpperCase());
