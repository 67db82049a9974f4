"""The transport of data-parallel training: MPI through mpi4py (``pip install -e .[mpi]``).

minigan needs three collective operations; each is one MPI call on a NumPy array in place:
    allreduce_sum(a)   a ← Σ over processes of a           (MPI_Allreduce, MPI_SUM)
    broadcast(a)       a ← rank 0's a                       (MPI_Bcast)
    allreduce_max(a)   a ← elementwise max over processes   (MPI_Allreduce, MPI_MAX)
and, when one process fails alone, ``abort(code)`` ends them all (MPI_Abort; together.py).
"""
import importlib.util


def mpi_available():
    """True when mpi4py can be imported (it is not imported here)."""
    return importlib.util.find_spec("mpi4py") is not None


class MPIComm:
    """All processes of ``mpirun`` (MPI's COMM_WORLD): ``rank`` 0..size−1 and ``size``."""

    def __init__(self):
        try:
            from mpi4py import MPI
        except ImportError as e:
            raise RuntimeError("data-parallel training needs mpi4py and an MPI library: "
                               "pip install -e '.[mpi]' (mpi4py and Open MPI wheels)") from e
        self._mpi, self._comm = MPI, MPI.COMM_WORLD
        self.rank, self.size = self._comm.Get_rank(), self._comm.Get_size()

    def allreduce_sum(self, array):
        self._comm.Allreduce(self._mpi.IN_PLACE, array, op=self._mpi.SUM)
        return array

    def allreduce_max(self, array):
        self._comm.Allreduce(self._mpi.IN_PLACE, array, op=self._mpi.MAX)
        return array

    def broadcast(self, array, root=0):
        self._comm.Bcast(array, root=root)
        return array

    def abort(self, code):
        """End every process of the job now with exit code ``code`` (does not return)."""
        self._comm.Abort(code)

    def __repr__(self):
        return f"MPIComm(rank={self.rank}, size={self.size})"
