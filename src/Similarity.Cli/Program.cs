using Similarity.Cli;
using Spectre.Console;

// ./similarity.sh import CATALOG [--images ZIP] [--format F] [--mapping M] [--missing-image skip|textOnly] [--url URL] [--key KEY]: see ImportCli and ExitCodes;
// ./similarity.sh models deploy DIR [--name NAME] [--url URL]: see ModelsCli.
return args is ["models", .. var models]
    ? await ModelsCli.RunAsync(models, AnsiConsole.Console, Environment.GetEnvironmentVariable)
    : await ImportCli.RunAsync(args, AnsiConsole.Console, Environment.GetEnvironmentVariable, TimeSpan.FromMilliseconds(500));
