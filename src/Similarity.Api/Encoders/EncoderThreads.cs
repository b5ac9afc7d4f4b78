using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;

namespace Similarity.Encoders;

/// <summary>
/// The threads every model run happens on, below serving: each lowers its own CPU priority (Linux nice, per thread,
/// by <c>setpriority</c>; .NET's <see cref="Thread.Priority"/> does nothing on Linux) before it takes work. The ONNX
/// sessions are created on one of them, so ONNX Runtime's own pool threads, which the creating thread spawns,
/// inherit its nice value and its name. A nice thread still takes every idle core (unlike an affinity mask): it
/// only yields when serving wants the CPU. One pool per nice value in the process (pipelines are built per model set).
/// Invariant: a caller blocks until its work ran; work given from one of these threads runs inline (no deadlock).
/// Where the priority cannot be lowered (not Linux), the threads run as serving does and <see cref="Lowered"/> says so.
/// </summary>
public sealed partial class EncoderThreads
{
    /// <summary>The threads' name (Linux <c>comm</c>), inherited by ONNX Runtime's pool threads.</summary>
    public const string ThreadName = "encoder";

    /// <summary>Threads per pool: room for every encoder's batcher of two model sets and an import at once.</summary>
    public const int Threads = 8;
    const int PrioProcess = 0;

    static readonly ConcurrentDictionary<int, EncoderThreads> Pools = new();

    [ThreadStatic] static bool _onEncoderThread;

    readonly BlockingCollection<Action> _work = [];

    EncoderThreads(int nice)
    {
        Nice = nice;
        for (var i = 0; i < Threads; i++)
            new Thread(Loop) { IsBackground = true, Name = ThreadName }.Start();
    }

    /// <summary>The nice value the threads run at (0: as serving).</summary>
    public int Nice { get; }

    /// <summary>False once a thread could not lower its priority (then it runs as serving does).</summary>
    public bool Lowered { get; private set; } = true;

    /// <summary>The process's pool for <paramref name="nice"/>, started on first use.</summary>
    public static EncoderThreads For(int nice) => Pools.GetOrAdd(nice, n => new EncoderThreads(n));

    /// <summary>Runs <paramref name="work"/> on one of the threads and returns its result (or throws its exception).</summary>
    public T Invoke<T>(Func<T> work)
    {
        if (_onEncoderThread)
            return work();
        using var done = new ManualResetEventSlim();
        T result = default!;
        ExceptionDispatchInfo? error = null;
        _work.Add(() =>
        {
            try
            {
                result = work();
            }
            catch (Exception ex)
            {
                error = ExceptionDispatchInfo.Capture(ex);
            }
            finally
            {
                done.Set();
            }
        });
        done.Wait();
        error?.Throw();
        return result;
    }

    void Loop()
    {
        _onEncoderThread = true;
        if (Nice != 0 && !(OperatingSystem.IsLinux() && setpriority(PrioProcess, gettid(), Nice) == 0))
            Lowered = false;
        foreach (var work in _work.GetConsumingEnumerable())
            work();
    }

    // Linux applies setpriority(PRIO_PROCESS, tid) to that one thread; raising one's own nice needs no privilege.
    [LibraryImport("libc")]
    private static partial int setpriority(int which, int who, int prio);

    [LibraryImport("libc")]
    private static partial int gettid();
}
