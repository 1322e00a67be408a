import { expectError, expectType } from "tsd";
import { getThreads, setThreads, threadSupport, type ThreadSupport } from "../src/index.js";

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
