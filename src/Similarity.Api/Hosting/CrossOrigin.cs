using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.Extensions.Options;

namespace Similarity.Hosting;

/// <summary><c>Similarity:Cors</c>: which browser origins may call the API. None by default.</summary>
public sealed class CrossOriginOptions
{
    public const string Section = "Similarity:Cors";

    /// <summary>Origins like <c>https://shop.example</c>: scheme, host and port, nothing else.</summary>
    public string[] AllowedOrigins { get; set; } = [];

    internal sealed class Validator : IValidateOptions<CrossOriginOptions>
    {
        public ValidateOptionsResult Validate(string? name, CrossOriginOptions options)
        {
            var bad = options.AllowedOrigins.Where(o => !Uri.TryCreate(o, UriKind.Absolute, out var uri)
                || uri.Scheme is not ("http" or "https") || uri.GetLeftPart(UriPartial.Authority) != o.TrimEnd('/')).ToArray();
            return bad.Length == 0 ? ValidateOptionsResult.Success
                : ValidateOptionsResult.Fail($"Similarity:Cors:AllowedOrigins holds {string.Join(", ", bad.Select(b => $"'{b}'"))}: each must be an origin like https://shop.example (scheme, host, port; no path).");
        }
    }
}

public static class CrossOrigin
{
    /// <summary>ASP.NET Core's CORS with one default policy built from <see cref="CrossOriginOptions"/>.</summary>
    public static WebApplicationBuilder AddCrossOrigin(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<CrossOriginOptions>().BindConfiguration(CrossOriginOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<CrossOriginOptions>, CrossOriginOptions.Validator>();
        builder.Services.AddCors();
        builder.Services.AddOptions<CorsOptions>().Configure<IOptions<CrossOriginOptions>>((cors, origins) =>
            cors.AddDefaultPolicy(policy => policy
                .WithOrigins([.. origins.Value.AllowedOrigins.Select(o => o.TrimEnd('/'))])
                .WithMethods("GET", "POST", "PUT", "PATCH", "DELETE")
                .WithHeaders("Content-Type", AdminKey.HeaderName, "If-None-Match", "Idempotency-Key", "traceparent")
                .WithExposedHeaders("ETag", "Location", "Retry-After")));
        return builder;
    }
}
