"""A population register for the tests: a SEPARATE PROCESS serving realistic person records over
HTTP JSON, the face the terminal's adapter speaks (``terminal/roadside/population.py``):
``GET /v1/persons/<iin>`` answers 200 with the person, 404 when there is none, 400 for an IIN
whose check digit fails (as the real register refuses it).

Run: ``python -m tests.support.population_register --port 0``; it prints ``LISTENING <port>``.
``PopulationRegisterProcess`` starts it for a test and stops it. The records: Kazakh and Russian
names as the State Database writes them (surname, given name, patronymic), IINs whose seventh
digit and check digit are right, addresses and identity card numbers; one deceased person.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from central_ingest.core.iin import is_valid_iin

# The vehicle owner of tests/support/registry_fixtures.py (OWNER_PERSON, 791028302728) is here
# too, so the background of his plate and his IIN meet.
_PEOPLE: list[dict[str, Any]] = [
    {
        "iin": "791028302728",
        "surname": "Абенов",
        "given_name": "Нурлан",
        "patronymic": "Серикович",
        "birth_date": "1979-10-28",
        "address": "г. Астана, район Есиль, ул. Сыганак, д. 14, кв. 52",
        "document": "041257893",
    },
    {
        "iin": "850315300128",
        "surname": "Оспанов",
        "given_name": "Серік",
        "patronymic": "Қайратұлы",
        "birth_date": "1985-03-15",
        "address": "Астана қ., Сарыарқа ауданы, Бейбітшілік к-сі, 33-үй, 7-пәтер",
        "document": "038811204",
    },
    {
        "iin": "920704450011",
        "surname": "Ким",
        "given_name": "Елена",
        "patronymic": "Викторовна",
        "birth_date": "1992-07-04",
        "address": "г. Алматы, Бостандыкский район, пр. Аль-Фараби, д. 77/8, кв. 120",
        "document": "045590317",
    },
    {
        "iin": "650112350025",
        "surname": "Жақсыбеков",
        "given_name": "Ерлан",
        "patronymic": None,
        "birth_date": "1965-01-12",
        "address": "Қарағанды облысы, Теміртау қ., Республика даңғылы, 5",
        "document": "029934561",
        "deceased": True,
    },
]
RECORDS: dict[str, dict[str, Any]] = {str(person["iin"]): person for person in _PEOPLE}


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        prefix = "/v1/persons/"
        if not self.path.startswith(prefix):
            self._answer(404, {"error": "not_found"})
            return
        iin = self.path[len(prefix) :]
        if not is_valid_iin(iin):
            self._answer(400, {"error": "invalid_iin", "detail": f"{iin} is not a valid IIN"})
        elif iin in RECORDS:
            self._answer(200, RECORDS[iin])
        else:
            self._answer(404, {"error": "not_found"})

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: the tests read the answers, not a log


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), _Handler)
    print(f"LISTENING {server.server_address[1]}", flush=True)
    server.serve_forever()


class PopulationRegisterProcess:
    """The register in its own process, on a free loopback port."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[str] | None = None
        self.url = ""

    def start(self) -> PopulationRegisterProcess:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tests.support.population_register"],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line.startswith("LISTENING "):
            self.stop()
            raise RuntimeError(f"the population register did not start: {line!r}")
        self.url = f"http://127.0.0.1:{int(line.split()[1])}"
        return self

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
            self._process = None


if __name__ == "__main__":
    main()
