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
/// The admin key for write endpoints: <c>X-Api-Key</c> must equal <c>Similarity:AdminApiKey</c>. Checked by
/// ASP.NET Core's authentication and authorization middleware, which run before the endpoint binds its
/// parameters — so a request without the key is refused before a byte of its body is read.
/// </summary>
public static class AdminKey
{
    public const string HeaderName = "X-Api-Key";

    /// <summary>The authentication scheme and the authorization policy that requires it.</summary>
    public const string Scheme = "AdminKey";

    public static WebApplicationBuilder AddAdminKey(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<SecurityOptions>().BindConfiguration(SecurityOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<SecurityOptions>, SecurityOptions.Validator>();
        builder.Services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, Handler>(Scheme, configureOptions: null);
        builder.Services.AddAuthorizationBuilder().AddPolicy(Scheme, policy => policy.AddAuthenticationSchemes(Scheme).RequireAuthenticatedUser());
        return builder;
    }

    /// <summary>Requires the admin key on every endpoint of the builder; with no key configured, refuses all.</summary>
    public static TBuilder RequireAdminKey<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.RequireAuthorization(Scheme).WithMetadata(new RequiresAdminKey());

    internal static bool Matches(string configured, string given) =>
        configured.Length > 0
        && CryptographicOperations.FixedTimeEquals(
            SHA256.HashData(Encoding.UTF8.GetBytes(configured)), SHA256.HashData(Encoding.UTF8.GetBytes(given)));

    sealed record RequiresAdminKey;

    /// <summary>Authenticates the admin by the key header; a refusal is a 401 ProblemDetails.</summary>
    sealed class Handler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder,
        IOptionsMonitor<SecurityOptions> security) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        static readonly ClaimsPrincipal Admin = new(new ClaimsIdentity([new Claim(ClaimTypes.Role, "admin")], AdminKey.Scheme));

        protected override Task<AuthenticateResult> HandleAuthenticateAsync()
        {
            if (!Request.Headers.TryGetValue(HeaderName, out var given))
                return Task.FromResult(AuthenticateResult.NoResult());
            return Task.FromResult(Matches(security.CurrentValue.AdminApiKey, given.ToString())
                ? AuthenticateResult.Success(new AuthenticationTicket(Admin, AdminKey.Scheme))
                : AuthenticateResult.Fail($"Wrong {HeaderName}."));
        }

        protected override Task HandleChallengeAsync(AuthenticationProperties properties) =>
            TypedResults.Problem(
                statusCode: StatusCodes.Status401Unauthorized,
                title: "Admin key required.",
                detail: security.CurrentValue.AdminApiKey.Length == 0
                    ? "Writes are refused: the service has no Similarity:AdminApiKey configured."
                    : $"Send the admin key in the {HeaderName} header.").ExecuteAsync(Context);
    }

    /// <summary>Marks admin-key endpoints in the OpenAPI document so Swagger UI sends the key.</summary>
    internal sealed class SwaggerOperationFilter : IOperationFilter
    {
        public void Apply(OpenApiOperation operation, OperationFilterContext context)
        {
            if (!context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<RequiresAdminKey>().Any())
                return;
            operation.Security ??= [];
            operation.Security.Add(new OpenApiSecurityRequirement
            {
                [new OpenApiSecuritySchemeReference(HeaderName, context.Document)] = [],
            });
            operation.Responses ??= new OpenApiResponses();
            operation.Responses.TryAdd("401", new OpenApiResponse { Description = "Missing or wrong admin key." });
        }
    }
}
