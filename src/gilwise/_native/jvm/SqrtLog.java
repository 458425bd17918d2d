// The sqrt_log loop on the JVM: N platform threads, no GIL (gilwise's jvm-threads model and
// the `jvm` impl of sqrt_log). Compiled by gilwise with javac on first use and cached; see
// gilwise/_native/_jvm.py for the protocol's other side.
//
// Protocol (text lines, UTF-8):
//   out: "ready <pid>"                      once, when the JVM can take requests and HotSpot has
//                                           compiled the loop (start-up ends)
//   in:  "<id> <n> <threads>"               sum(sqrt(i) * log(i + 1) for i in [0, n)) split over
//                                           <threads> new platform threads, contiguous ranges
//   out: "<id> ok <result> <compute_ns>"    Double.toString of the sum (round-trips exactly);
//                                           compute_ns: System.nanoTime from before the first
//                                           thread starts to after the last one is joined
//   out: "<id> error <message>"             bad request or a thread that failed
//   EOF on stdin: finish the requests in flight, then exit 0.
// Each request runs on its own dispatcher thread, so several callers (Python threads sharing
// one JVM) compute at the same time instead of queueing behind one another.

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

public final class SqrtLog {
    private static final long MAX_N = 1L << 53; // every index converts exactly to a double
    private static final int MAX_THREADS = 1024;
    private static final int WARM_UP_CALLS = 5_000;
    private static final int WARM_UP_ITERATIONS = 200;

    private SqrtLog() {}

    static double range(long begin, long end) {
        double result = 0.0;
        for (long i = begin; i < end; i++) {
            // i + 1 in integer arithmetic, like Python's log(i + 1) and the C kernel.
            result += Math.sqrt((double) i) * Math.log((double) (i + 1));
        }
        return result;
    }

    /** The whole range over {@code threads} platform threads; returns {result, nanoseconds}. */
    static double[] compute(long n, int threads) throws InterruptedException {
        double[] partial = new double[threads];
        Thread[] workers = new Thread[threads];
        long start = System.nanoTime();
        for (int k = 0; k < threads; k++) {
            // [k*n/T, (k+1)*n/T): sizes differ by at most one. n < 2**53 and T <= 1024, so
            // the product stays far below 2**63.
            final int index = k;
            final long begin = n * k / threads;
            final long end = n * (k + 1) / threads;
            workers[k] = new Thread(() -> partial[index] = range(begin, end), "sqrt_log-" + k);
            workers[k].start();
        }
        for (Thread worker : workers) {
            worker.join();
        }
        long elapsed = System.nanoTime() - start;
        double result = 0.0;
        for (double value : partial) {
            result += value;
        }
        return new double[] {result, (double) elapsed};
    }

    private static String answer(String line) {
        String[] parts = line.trim().split(" ");
        if (parts.length != 3) {
            return (parts.length > 0 ? parts[0] : "?") + " error expected '<id> <n> <threads>', got: " + line;
        }
        String id = parts[0];
        try {
            long n = Long.parseLong(parts[1]);
            int threads = Integer.parseInt(parts[2]);
            if (n < 0 || n > MAX_N) {
                return id + " error n must be in [0, 2**53], got " + n;
            }
            if (threads < 1 || threads > MAX_THREADS) {
                return id + " error threads must be in [1, " + MAX_THREADS + "], got " + threads;
            }
            double[] done = compute(n, threads);
            return id + " ok " + Double.toString(done[0]) + " " + (long) done[1];
        } catch (NumberFormatException exc) {
            return id + " error not a number: " + exc.getMessage();
        } catch (InterruptedException exc) {
            Thread.currentThread().interrupt();
            return id + " error interrupted";
        } catch (RuntimeException | OutOfMemoryError exc) {
            return id + " error " + exc;
        }
    }

    public static void main(String[] args) throws IOException, InterruptedException {
        PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        ExecutorService dispatch = Executors.newCachedThreadPool(task -> {
            Thread thread = new Thread(task, "sqrt_log-dispatch");
            thread.setDaemon(true);
            return thread;
        });
        // Warm-up before "ready": enough calls for HotSpot's tiered compiler to compile range()
        // itself (not only an on-stack replacement of one long call), so the first request from
        // any thread runs compiled code and start-up, not compute, pays for the JIT.
        double sink = 0.0;
        for (int k = 0; k < WARM_UP_CALLS; k++) {
            sink += range(0, WARM_UP_ITERATIONS);
        }
        out.println("ready " + ProcessHandle.current().pid() + (sink < 0 ? " !" : ""));
        out.flush();
        String line;
        while ((line = in.readLine()) != null) {
            if (line.isBlank()) {
                continue;
            }
            final String request = line;
            dispatch.execute(() -> {
                String reply = answer(request);
                synchronized (out) {
                    out.println(reply);
                    out.flush();
                }
            });
        }
        dispatch.shutdown();
        dispatch.awaitTermination(1, TimeUnit.DAYS);
        out.flush();
    }
}
