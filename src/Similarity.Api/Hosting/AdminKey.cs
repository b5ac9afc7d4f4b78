using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Similarity.Hosting;

/// <summary>
/// The key check: <c>X-Api-Key</c> is the bootstrap admin key (<c>Similarity:AdminApiKey</c>) or one of the named keys
/// <see cref="IApiKeys"/> knows, each <c>admin</c> or <c>storefront</c>. It runs in ASP.NET Core's authentication and
/// authorization middleware, before the endpoint binds its parameters, so a request refused for its key has not had a
/// byte of its body read. A missing key on an admin route is "required", a wrong one "not recognised" (401), a
/// storefront key a 403 naming the role the route needs. On the other routes a recognised key only names the caller
/// (its own rate limits); a wrong one is ignored there and the request is anonymous, as without a key.
/// </summary>
public static class AdminKey
{
    public const string HeaderName = "X-Api-Key";

    /// <summary>The authentication scheme and the authorization policy that requires an admin key.</summary>
    public const string Scheme = "AdminKey";

    /// <summary>The authorization policy that requires any recognised key (admin or storefront).</summary>
    public const string AnyKeyPolicy = "AnyApiKey";

    public static WebApplicationBuilder AddAdminKey(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<SecurityOptions>().BindConfiguration(SecurityOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<SecurityOptions>, SecurityOptions.Validator>();
        // The default scheme, so every request that sends a key is told apart from an anonymous one (its rate limits).
        builder.Services.AddAuthentication(Scheme).AddScheme<AuthenticationSchemeOptions, Handler>(Scheme, configureOptions: null);
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(Scheme, policy => policy.AddAuthenticationSchemes(Scheme).RequireRole(ApiCaller.NameOf(ApiKeyRole.Admin)))
            .AddPolicy(AnyKeyPolicy, policy => policy.AddAuthenticationSchemes(Scheme).RequireAuthenticatedUser());
        return builder;
    }

    /// <summary>Requires an admin key on every endpoint of the builder; with no key configured or created, refuses all.</summary>
    public static TBuilder RequireAdminKey<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.RequireAuthorization(Scheme).WithMetadata(new RequiresKey(ApiKeyRole.Admin));

    /// <summary>Requires a storefront or an admin key (the storefront's writes, such as its shoppers' events).</summary>
    public static TBuilder RequireStorefrontKey<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.RequireAuthorization(AnyKeyPolicy).WithMetadata(new RequiresKey(ApiKeyRole.Storefront));

    internal static bool Matches(string configured, string given) =>
        configured.Length > 0
        && CryptographicOperations.FixedTimeEquals(
            SHA256.HashData(Encoding.UTF8.GetBytes(configured)), SHA256.HashData(Encoding.UTF8.GetBytes(given)));

    sealed record RequiresKey(ApiKeyRole Role);

    /// <summary>Authenticates the caller by the key header; a refusal is a 401 or 403 ProblemDetails.</summary>
    sealed class Handler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder,
        IOptionsMonitor<SecurityOptions> security, IOptionsMonitor<RateLimitOptions> limits, IServiceProvider services)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
        {
            var secret = Request.Headers[HeaderName].ToString();
            if (secret.Length == 0)
                return AuthenticateResult.NoResult();
            var caller = Matches(security.CurrentValue.AdminApiKey, secret)
                ? new ApiCaller(null, "bootstrap", ApiKeyRole.Admin, limits.CurrentValue.PerKeyPerSecond, limits.CurrentValue.PerKeyBurst)
                : services.GetService<IApiKeys>() is { } keys ? await keys.FindAsync(secret, Context.RequestAborted) : null;
            if (caller is null)
                return AuthenticateResult.Fail($"{HeaderName} not recognised.");
            Context.Features.Set(caller);
            var identity = new ClaimsIdentity(
                [new Claim(ClaimTypes.Name, caller.Name), new Claim(ClaimTypes.Role, ApiCaller.NameOf(caller.Role))], AdminKey.Scheme);
            return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), AdminKey.Scheme));
        }

        protected override Task HandleChallengeAsync(AuthenticationProperties properties)
        {
            var needs = Context.GetEndpoint()?.Metadata.GetMetadata<RequiresKey>()?.Role == ApiKeyRole.Storefront ? "a storefront or admin key" : "an admin key";
            return Request.Headers[HeaderName].ToString().Length > 0
                ? Problem(StatusCodes.Status401Unauthorized, "API key not recognised.",
                    $"The key in the {HeaderName} header is not one of this service's keys (mistyped, revoked, or another deployment's). Send {needs}.")
                : Problem(StatusCodes.Status401Unauthorized, "API key required.",
                    $"Send {needs} in the {HeaderName} header." + (security.CurrentValue.AdminApiKey.Length == 0
                        ? " This service has no Similarity:AdminApiKey configured: only keys created with POST /keys are accepted."
                        : ""));
        }

        protected override Task HandleForbiddenAsync(AuthenticationProperties properties)
        {
            var caller = ApiCaller.Of(Context);
            var role = caller is null ? "no" : ApiCaller.NameOf(caller.Role);
            return Problem(StatusCodes.Status403Forbidden, "An admin key is required.",
                $"The key '{caller?.Name}' has the role {role}; this route needs a key with the role admin.");
        }

        Task Problem(int status, string title, string detail) =>
            TypedResults.Problem(statusCode: status, title: title, detail: detail).ExecuteAsync(Context);
    }

    /// <summary>Marks key-guarded endpoints in the OpenAPI document so Swagger UI sends the key.</summary>
    internal sealed class SwaggerOperationFilter : IOperationFilter
    {
        public void Apply(OpenApiOperation operation, OperationFilterContext context)
        {
            if (context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<RequiresKey>().LastOrDefault() is not { } requires)
                return;
            operation.Security ??= [];
            operation.Security.Add(new OpenApiSecurityRequirement
            {
                [new OpenApiSecuritySchemeReference(HeaderName, context.Document)] = [],
            });
            operation.Responses ??= new OpenApiResponses();
            operation.Responses.TryAdd("401", new OpenApiResponse { Description = "The API key (X-Api-Key) is missing (required) or not recognised." });
            if (requires.Role == ApiKeyRole.Admin)
                operation.Responses.TryAdd("403", new OpenApiResponse { Description = "A storefront key: this route needs a key with the role admin." });
        }
    }
}
