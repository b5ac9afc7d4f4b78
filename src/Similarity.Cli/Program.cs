using Similarity.Cli;
using Spectre.Console;

// similarity-import CATALOG [--images ZIP] [--format F] [--mapping M] [--missing-image skip|textOnly] [--url URL] [--key KEY]: see ImportCli and ExitCodes.
return await ImportCli.RunAsync(args, AnsiConsole.Console, Environment.GetEnvironmentVariable, TimeSpan.FromMilliseconds(500));
