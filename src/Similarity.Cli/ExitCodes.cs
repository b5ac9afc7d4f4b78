namespace Similarity.Cli;

/// <summary>What <c>./similarity.sh import</c> exits with; the README's command table and <c>--help</c> list the same.</summary>
public static class ExitCodes
{
    /// <summary>The job succeeded, with or without row errors.</summary>
    public const int Succeeded = 0;

    /// <summary>The job ended failed or cancelled.</summary>
    public const int JobDidNotSucceed = 1;

    /// <summary>Bad arguments, a missing or unreadable file, or no admin key to send.</summary>
    public const int Usage = 2;

    /// <summary>The service refused the upload (a 4xx: wrong key, over a limit, not a catalog).</summary>
    public const int Refused = 3;

    /// <summary>The service could not be reached, or answered with a server error or something that is not its API.</summary>
    public const int Unreachable = 4;

    /// <summary>Interrupted (Ctrl-C) while following the job; the job itself goes on in the service.</summary>
    public const int Interrupted = 130;

    public const string Summary =
        "Exit codes: 0 the job succeeded (row errors included), 1 it failed or was cancelled, 2 bad arguments, a missing or unreadable file or no admin key, " +
        "3 the service refused the upload, 4 the service could not be reached or failed, 130 interrupted (the job goes on).";
}
