"""minigan.gan: the GAN toolkit behind the examples.

    from minigan import gan
    G, D = gan.dcgan28_generator(), gan.dcgan28_discriminator()
    trainer = gan.GANTrainer(G, D, gan.TrainConfig(epochs=5), data=images, out_dir="runs/x")
    trainer.fit()                      # grids, losses.png, metrics.csv, progress.gif, checkpoint

models      builders for the tutorials' GANs (registered by name, rebuilt from checkpoints)
trainer     GANTrainer: alternating D and G steps; it composes its parts — steps (the D and G
            steps as plain functions), config (TrainConfig), batches, samples, grids,
            metrics_log, health, checkpointer, stop, console; outputs names the files
health      warnings a learner can act on (D wins, G loss explodes, mode collapse)
images      sample grids as pictures
latent      slerp latent interpolation and latent walks
plots       loss curves and GIFs (matplotlib Agg, Pillow)
ema         the average of G's weights that samples
folder      load a folder of images for the 64×64 DCGAN
walk        latent-walk GIFs, a generator rebuilt from a checkpoint

The checkpoint file format and atomic writes are minigan.files (shared with minigan.eval); the
examples' command line is minigan.apps.
"""
from ..files.checkpoint import CheckpointError, load_checkpoint, read_meta, save_checkpoint
from .folder import ImageFolderError, load_image_folder
from .health import HealthMonitor, mean_pairwise_distance
from .models import (BUILDERS, build_model, dcgan28_discriminator, dcgan28_generator,
                     dcgan_discriminator, dcgan_generator, knet_hidden_size,
                     knet_mlp_discriminator, knet_mlp_generator, mnist_mlp_discriminator,
                     mnist_mlp_generator, one_parameter_discriminator, one_parameter_generator,
                     pattern_discriminator, pattern_generator)
from .images import grid_image, save_grid
from .latent import slerp, slerp_path
from .plots import plot_losses, save_gif
from .trainer import GANTrainer, NonFiniteLossError, TrainConfig, TrainingDiverged, TrainingInterrupted

__all__ = [
    "GANTrainer", "TrainConfig", "NonFiniteLossError", "TrainingDiverged", "TrainingInterrupted",
    "HealthMonitor",
    "save_checkpoint", "load_checkpoint", "read_meta", "CheckpointError",
    "BUILDERS", "build_model", "dcgan28_generator", "dcgan28_discriminator", "dcgan_generator",
    "dcgan_discriminator", "mnist_mlp_generator", "mnist_mlp_discriminator", "knet_mlp_generator",
    "knet_mlp_discriminator", "knet_hidden_size", "pattern_generator", "pattern_discriminator",
    "one_parameter_generator", "one_parameter_discriminator",
    "grid_image", "save_grid", "slerp", "slerp_path", "mean_pairwise_distance",
    "plot_losses", "save_gif", "load_image_folder", "ImageFolderError",
]
