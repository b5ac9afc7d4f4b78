using Microsoft.Extensions.DependencyInjection.Extensions;
using Similarity.Hosting;

namespace Similarity.Keys;

public static class KeysExtensions
{
    /// <summary>The named API keys: their store, which the key check in Hosting asks through <see cref="IApiKeys"/>.</summary>
    public static WebApplicationBuilder AddKeys(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<KeysOptions>().BindConfiguration(KeysOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<KeyStore>();
        builder.Services.AddSingleton<IApiKeys>(services => services.GetRequiredService<KeyStore>());
        return builder;
    }
}
