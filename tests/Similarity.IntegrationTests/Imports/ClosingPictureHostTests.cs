using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using Similarity.Imports;
using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Imports;

/// <summary>
/// Pictures from a host that speaks HTTP/1.0 and closes its connection after each answer, as Python's http.server
/// does by default. One connection is closed just after its request arrived, with no answer — the moment such a host
/// and a pooled client cross — and the row's picture still arrives, on a fresh connection.
/// </summary>
public sealed class ClosingPictureHostTests(FeedImportTests.FetchingApp app) : IClassFixture<FeedImportTests.FetchingApp>, IAsyncLifetime
{
    const int Rows = 36;
    const int ClosedUnanswered = 3;
    static readonly byte[] Png = TestImages.Noise(40, 30, seed: 7);
    readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    readonly CancellationTokenSource _stop = new();
    Task _serving = Task.CompletedTask;
    int _connections;

    public Task InitializeAsync()
    {
        _listener.Start();
        _serving = ServeAsync(_stop.Token);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _serving.ContinueWith(_ => { }, TaskScheduler.Default);
        _stop.Dispose();
    }

    async Task ServeAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            var socket = await _listener.AcceptSocketAsync(stop);
            _ = AnswerOnceAsync(socket, Interlocked.Increment(ref _connections), stop);
        }
    }

    /// <summary>Reads one request, answers it in HTTP/1.0 (or not at all, once) and closes.</summary>
    static async Task AnswerOnceAsync(Socket socket, int connection, CancellationToken stop)
    {
        using (socket)
        {
            var request = new StringBuilder();
            var buffer = new byte[4096];
            while (!request.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
            {
                var read = await socket.ReceiveAsync(buffer, SocketFlags.None, stop);
                if (read == 0)
                    return;
                request.Append(Encoding.ASCII.GetString(buffer, 0, read));
            }
            if (connection == ClosedUnanswered)
                return;
            var head = Encoding.ASCII.GetBytes($"HTTP/1.0 200 OK\r\nServer: SimpleHTTP/0.6\r\nContent-Type: image/png\r\nContent-Length: {Png.Length}\r\n\r\n");
            await socket.SendAsync(head, SocketFlags.None, stop);
            await socket.SendAsync(Png, SocketFlags.None, stop);
            socket.Shutdown(SocketShutdown.Both);
        }
    }

    [Fact]
    public async Task Every_picture_arrives_from_a_host_that_closes_after_each_answer()
    {
        var port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        var feed = new StringBuilder("id\ttitle\tprice\timage_link\n");
        for (var i = 0; i < Rows; i++)
            feed.Append($"closing-{i}\tPicture {i}\t1.00 EUR\thttp://127.0.0.1:{port}/picture-{i}.png\n");
        var client = app.CreateAdminClient();

        var job = await client.WaitForEndAsync((await client.StartAsync(ImportClient.Form(feed.ToString(), "feed.tsv"))).Id);

        var errors = (await client.GetFromJsonAsync<ImportsApi.ErrorsResponse>($"/imports/{job.Id}/errors"))!.Errors;
        Assert.Empty(errors);
        Assert.Equal("succeeded", job.Status);
        Assert.Equal(Rows, job.Counts.Inserted);
        Assert.Equal(Rows, job.Counts.PicturesDownloaded);
        Assert.True(_connections > Rows, $"{_connections} connections for {Rows} pictures: the unanswered one was not retried");
    }
}
