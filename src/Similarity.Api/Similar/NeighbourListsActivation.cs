using Npgsql;
using Similarity.Models;

namespace Similarity.Similar;

/// <summary>
/// The neighbour lists' part in activating a model set: they compare vectors of one set, so inside the switch's
/// transaction every list goes and every item is queued; the list worker makes them again under the new set (the index
/// search answers meanwhile).
/// </summary>
public sealed class NeighbourListsActivation : IModelActivationParticipant
{
    public Task OnActivatingAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken ct) =>
        NeighbourListStore.InvalidateAllAsync(transaction, ct);
}
