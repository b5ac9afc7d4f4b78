namespace Similarity.Imports;

/// <summary>
/// How one run of an import job ended. <see cref="Finished"/>: it reached its last row; <see cref="Cancelled"/>: an
/// admin cancelled it; <see cref="TakenOver"/>: another runner has it now (this one lost its lock), so its upload
/// stays; <see cref="Refused"/>: its upload failed the checks left to the job; <see cref="Failed"/>: a fault stopped
/// it, its upload kept for a resume.
/// </summary>
public enum ImportEnd { Finished, Cancelled, TakenOver, Refused, Failed }
