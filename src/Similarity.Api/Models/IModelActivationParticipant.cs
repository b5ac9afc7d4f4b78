using Npgsql;

namespace Similarity.Models;

/// <summary>
/// A feature whose stored state was computed with the live set's vectors: activation calls it inside the switch's
/// transaction, so the new set goes live together with that state made right for it (or neither does).
/// Registered by the feature that owns the state; the model sets never touch its tables themselves.
/// </summary>
public interface IModelActivationParticipant
{
    Task OnActivatingAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken ct);
}
